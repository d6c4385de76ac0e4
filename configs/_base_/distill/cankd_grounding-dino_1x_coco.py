# CanKD for GroundingDINO: mmdet's grounding_dino_r50_scratch_8xb2_1x_coco.py
# as it is (data, AdamW lr 1e-4 with backbone lr x0.1, grad clip 0.1, 12
# epochs) with its model as both student and teacher; a pair changes the
# teacher and sets model.teacher_ckpt. Distilled: ChannelMapper outputs 0-2
# (strides 8, 16, 32; 256 channels), CanLoss loss_weight=10 (mu = 5).
# Building it needs what cankd's environment does not install: `transformers`
# for the text encoder, whose weights come from the Hugging Face hub
# ('bert-base-uncased'; for a local copy set language_model.name of both
# model.architecture and model.teacher to its directory), and `fairscale`,
# because mmdet's config checkpoints the encoder layers (encoder.num_cp=6;
# num_cp=0 builds without fairscale at the cost of memory). The config is
# therefore not built by tools/analysis/check_config.py offline.
_base_ = 'mmdet::grounding_dino/grounding_dino_r50_scratch_8xb2_1x_coco.py'

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
