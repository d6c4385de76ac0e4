# The segmentation demo's student alone (the no-distillation baseline):
# DeepLabV3, ResNet-18-d8 of 16 base channels, random init, on the
# Fashion-MNIST segmentation mosaics. Also the config to test a converted
# CanKD student with.
_base_ = './_base_/fashion_seg.py'

model = {{_base_.student_model}}
