# The classification demo's student alone (the no-distillation baseline):
# cankd's MobileNetV1 at half width (512 channels at layer13), random
# initialisation, 10 classes. Also the config to test a converted student.
_base_ = ['./_base_/fashion_cls_data.py', 'mmpretrain::_base_/models/resnet18.py']

custom_imports = dict(imports=['cankd'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV1', widen_factor=0.5),
    head=dict(num_classes=10, in_channels=512, topk=(1, )))
