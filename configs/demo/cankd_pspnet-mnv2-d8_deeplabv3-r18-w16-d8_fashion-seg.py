# CanKD segmentation demo: the PSPNet MobileNetV2-d8 teacher distils its
# backbone output (backbone.layer7, 320 channels, stride 8) into the
# backbone output of the DeepLabV3 ResNet-18/16-d8 student (backbone.layer4,
# 128 channels, stride 8), mapped to 320 channels by the 1x1 connector, on
# the Fashion-MNIST segmentation mosaics (held-out val). Same distiller as
# configs/mmseg/ (the paper's PSPNet -> DeepLabV3 pair in miniature), mu = 5.
_base_ = [
    './_base_/fashion_seg.py', '../_base_/distill/cankd_segmentation.py'
]

# The demo writes the trained teacher here; elsewhere pass
# --cfg-options model.teacher_ckpt=PATH.
teacher_ckpt = 'work_dirs/demo_seg/teacher.pth'

model = dict(
    architecture={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        teacher_recorders=dict(bb=dict(source='backbone.layer7')),
        connectors=dict(s_bb=dict(in_channel=128, out_channel=320)),
        distill_losses=dict(loss_can=dict(in_channels=320))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# The canvases' size (d8: a 16x16 feature).
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(128, 128))
]
