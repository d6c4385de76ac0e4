# CanKD classification demo: the paper's ResNet-50 -> MobileNetV1 pair in
# miniature. The ResNet-34/32 teacher distils its last stage (layer4, 256
# channels, stride 32: 4x4 at 128x128) into the last block of the
# MobileNetV1-0.5 student (layer13, 512 channels), mapped to 256 channels by
# the 1x1 connector; mu = 5; on the Fashion-MNIST mini-ImageNet.
_base_ = [
    './_base_/fashion_cls_data.py',
    '../_base_/distill/cankd_classification.py'
]

# The demo writes the trained teacher here; elsewhere pass
# --cfg-options model.teacher_ckpt=PATH.
teacher_ckpt = 'work_dirs/demo_cls/teacher.pth'

model = dict(
    # The models of resnet34-w32_ and mobilenet-v1-w0.5_fashion-cls.py.
    architecture=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        backbone=dict(_delete_=True, type='MobileNetV1', widen_factor=0.5),
        head=dict(num_classes=10, in_channels=512, topk=(1, ))),
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet34_8xb32_in1k.py',
        backbone=dict(base_channels=32),
        head=dict(num_classes=10, in_channels=256, topk=(1, ))),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        student_recorders=dict(bb=dict(source='backbone.layer13')),
        connectors=dict(
            s_bb=dict(
                type='ConvModuleConnector', in_channel=512, out_channel=256,
                kernel_size=1, norm_cfg=None, act_cfg=None)),
        distill_losses=dict(loss_can=dict(in_channels=256)),
        loss_forward_mappings=dict(
            loss_can=dict(s_feature=dict(connector='s_bb')))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(128, 128))
]
