# CanKD for DINO: mmdet's dino-4scale_r50_8xb2-12e_coco.py as it is (data,
# AdamW lr 1e-4 with backbone lr x0.1, grad clip 0.1, 12 epochs, step at 11)
# with its model as both student and teacher; a pair changes the teacher
# (e.g. model.teacher.backbone.depth) and sets model.teacher_ckpt.
# SingleTeacherDistill runs the whole teacher (the DETR family's encoder does
# not change the distilled neck outputs, but this is the paper's setting).
# Distilled: ChannelMapper outputs 0-2 (strides 8, 16, 32; 256 channels;
# output 3 is the extra stride-64 level), CanLoss loss_weight=10 (mu = 5).
_base_ = 'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py'

custom_imports = dict(imports=['cankd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=_base_.model,
    teacher=_base_.model,
    teacher_ckpt=None,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses=dict(
            loss_can_fpn0=dict(type='CanLoss', in_channels=256,
                               loss_weight=10),
            loss_can_fpn1=dict(type='CanLoss', in_channels=256,
                               loss_weight=10),
            loss_can_fpn2=dict(type='CanLoss', in_channels=256,
                               loss_weight=10)),
        loss_forward_mappings=dict(
            loss_can_fpn0=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=0),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=0)),
            loss_can_fpn1=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=1),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=1)),
            loss_can_fpn2=dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=2),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=2)))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
custom_hooks = [dict(type='mmrazor.DistillationCheckHook')]
find_unused_parameters = True
