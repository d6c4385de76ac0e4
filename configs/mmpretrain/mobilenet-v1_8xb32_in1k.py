# MobileNetV1 alone on ImageNet-1k, 100 epochs: the student of
# cankd_resnet50_mobilenet-v1_8xb32_in1k.py trained without distillation,
# and the config to test its converted CanKD student with. mmpretrain has
# no MobileNetV1: cankd registers one (cankd.models.backbones).
_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'

custom_imports = dict(imports=['cankd'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV1'),
    head=dict(in_channels=1024))
# As in the distillation run: gradients clipped at norm 5.
optim_wrapper = dict(clip_grad=dict(max_norm=5, norm_type=2))
