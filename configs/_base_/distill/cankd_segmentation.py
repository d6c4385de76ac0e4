# CanKD on the backbone output of a d8 segmentor (PSPNet, DeepLabV3) with
# SingleTeacherDistill (the whole teacher runs). Distilled: backbone.layer4
# (stride 8; 2048 channels on a ResNet-101 teacher). The student's channels
# (512 on a ResNet-18) are mapped to the teacher's by a 1x1 convolution
# (no norm, no activation) that trains with the loss.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`,
# and val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# (cankd_segmentation_cityscapes-80k.py does both data and val loop).
custom_imports = dict(imports=['cankd'], allow_failed_imports=False)

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4')),
        teacher_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4')),
        connectors=dict(
            s_bb=dict(
                type='ConvModuleConnector', in_channel=512, out_channel=2048,
                kernel_size=1, norm_cfg=None, act_cfg=None)),
        # loss_weight=10 is the paper's mu = 5: CanLoss halves the MSE.
        distill_losses=dict(
            loss_can=dict(type='CanLoss', in_channels=2048, loss_weight=10)),
        loss_forward_mappings=dict(
            loss_can=dict(
                s_feature=dict(
                    from_student=True, recorder='bb', connector='s_bb'),
                t_feature=dict(from_student=False, recorder='bb')))))

# Every student, connector and CanLoss parameter receives a gradient each
# step (the teacher is frozen): DDP needs no search for unused ones.
find_unused_parameters = False
# d8 backbones: any size divisible by 8 measures stride 8.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(256, 256))
]
