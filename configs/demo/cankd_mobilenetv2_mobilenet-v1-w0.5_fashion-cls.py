# CanKD classification demo: the paper's ResNet-50 -> MobileNetV1 pair in
# miniature, with a pretrained teacher. The MobileNetV2 teacher (ImageNet
# backbone, fine-tuned first) distils its last backbone stage (conv2, 1280
# channels, stride 32: 4x4 at 128x128) into the last block of the
# MobileNetV1-0.5 student (layer13, 512 channels, random init), mapped to
# 1280 channels by the 1x1 connector; mu = 5; on the Fashion-MNIST
# mini-ImageNet.
_base_ = [
    './_base_/fashion_cls_data.py',
    '../_base_/distill/cankd_classification.py'
]

# The demo writes the trained teacher here; elsewhere pass
# --cfg-options model.teacher_ckpt=PATH.
teacher_ckpt = 'work_dirs/demo_cls/teacher.pth'

model = dict(
    # The models of mobilenetv2_ and mobilenet-v1-w0.5_fashion-cls.py.
    architecture=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        backbone=dict(_delete_=True, type='MobileNetV1', widen_factor=0.5),
        head=dict(num_classes=10, in_channels=512, topk=(1, ))),
    teacher=dict(
        cfg_path='mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
        head=dict(num_classes=10, topk=(1, ))),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        student_recorders=dict(bb=dict(source='backbone.layer13')),
        teacher_recorders=dict(bb=dict(source='backbone.conv2')),
        connectors=dict(
            s_bb=dict(
                type='ConvModuleConnector', in_channel=512, out_channel=1280,
                kernel_size=1, norm_cfg=None, act_cfg=None)),
        distill_losses=dict(loss_can=dict(in_channels=1280)),
        loss_forward_mappings=dict(
            loss_can=dict(s_feature=dict(connector='s_bb')))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(128, 128))
]
