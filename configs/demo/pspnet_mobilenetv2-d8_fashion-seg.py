# The segmentation demo's teacher alone: PSPNet, MobileNetV2-d8 (ImageNet
# weights), on the Fashion-MNIST segmentation mosaics.
_base_ = './_base_/fashion_seg.py'

model = {{_base_.teacher_model}}
