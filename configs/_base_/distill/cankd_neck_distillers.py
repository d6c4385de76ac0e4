# Distiller pieces for configs that inherit a whole mmdet config (its model,
# data and schedule) and wrap its model in a distillation algorithm, with the
# teacher derived from the same model dict (see cankd_dino-4scale_12e_coco.py).
# Such a config cannot also inherit cankd_fpn_detection_2x.py: both define
# model, data and schedule, and mmengine refuses duplicate keys among bases.
# This file only defines keys that no mmdet config defines.
custom_imports = dict(imports=['cankd'], allow_failed_imports=False)
custom_hooks = [dict(type='mmrazor.DistillationCheckHook')]
find_unused_parameters = True

# The paper's mu = 5; CanLoss halves the MSE as the official code does.
can_loss_weight = 10


def _neck_distiller(levels, channels=256):
    """One CanLoss per neck output index in ``levels``."""
    return dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_can_fpn{i}': dict(
                type='CanLoss', in_channels=channels,
                loss_weight=can_loss_weight)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_can_fpn{i}': dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=i),
                t_feature=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in levels
        })


# FPN P3-P6 (RetinaNet-style necks) or P2-P5 (Faster R-CNN): indices 0-3.
cankd_fpn_distiller = _neck_distiller(range(4))
# DETR family (DINO, GroundingDINO): ChannelMapper outputs 0-2 (strides
# 8, 16, 32; output 3 is the extra stride-64 level).
cankd_detr_distiller = _neck_distiller(range(3))
