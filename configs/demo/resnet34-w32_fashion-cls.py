# The classification demo's teacher: mmpretrain's ResNet-34 classifier with
# 32 base channels (half the usual width; 256 channels at layer4), random
# initialisation, 10 classes, on the Fashion-MNIST mini-ImageNet.
_base_ = ['./_base_/fashion_cls_data.py', 'mmpretrain::_base_/models/resnet34.py']

model = dict(
    backbone=dict(base_channels=32),
    head=dict(num_classes=10, in_channels=256, topk=(1, )))
