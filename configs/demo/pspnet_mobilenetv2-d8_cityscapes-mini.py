# The segmentation demo's teacher alone: PSPNet, MobileNetV2-d8 (ImageNet
# weights), on data/cityscapes_mini.
_base_ = ['./_base_/cityscapes_mini_data.py', './_base_/demo_segmentors.py']

model = {{_base_.teacher_model}}
