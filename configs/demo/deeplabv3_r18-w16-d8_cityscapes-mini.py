# The segmentation demo's student alone (no distillation): DeepLabV3,
# ResNet-18-d8 of 16 base channels, random init, on data/cityscapes_mini.
# Also the config to test a converted CanKD student with.
_base_ = ['./_base_/cityscapes_mini_data.py', './_base_/demo_segmentors.py']

model = {{_base_.student_model}}
