# CanKD demo: the MobileNetV2 RetinaNet teacher distils P3-P6 of its FPN into
# the ResNet-18/16 RetinaNet student on the Fashion-MNIST mosaics.
_base_ = [
    './_base_/fashion_det_data.py', './_base_/demo_detectors.py',
    '../_base_/distill/cankd_fpn.py'
]

# The demo writes the trained teacher here; elsewhere pass
# --cfg-options model.teacher_ckpt=PATH.
teacher_ckpt = 'work_dirs/demo/teacher.pth'

model = dict(
    architecture={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        distill_losses={
            f'loss_can_fpn{i}': dict(in_channels=64)
            for i in range(4)
        }))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(128, 128))
]
