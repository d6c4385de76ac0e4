# ACAM-KD, unofficial re-implementation (cankd's ACAMLoss; no official code
# exists): RetinaNet R101 -> RetinaNet R50, 2x, the paper's headline pair
# and setting. Paper: 37.4 -> 41.2 AP, with the inheriting strategy.
# One ACAMLoss per FPN level of the student (P3-P7), the paper's detection
# hyper-parameters: M = 6 masks, alpha = lambda = 1. The student's neck and
# bbox_head start from the teacher's weights (InheritTeacherHook); the CanKD
# recipe of the base (data, 2x, SGD) is kept. Without the inheritance:
# --cfg-options "custom_hooks=[dict(type='mmrazor.DistillationCheckHook')]".
_base_ = './cankd_retinanet-r101_retinanet-r50_fpn_2x_coco.py'

model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            **{
                f'loss_acam_fpn{i}': dict(
                    type='ACAMLoss',
                    in_channels=256,
                    num_masks=6,
                    alpha=1.0,
                    diversity_weight=1.0)
                for i in range(5)
            }),
        loss_forward_mappings=dict(
            _delete_=True,
            **{
                f'loss_acam_fpn{i}': dict(
                    s_feature=dict(from_student=True, recorder='fpn',
                                   data_idx=i),
                    t_feature=dict(from_student=False, recorder='fpn',
                                   data_idx=i))
                for i in range(5)
            })))

# custom_hooks replaces the base's list: keep the check hook.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook'),
    dict(type='mmrazor.InheritTeacherHook', modules=['neck', 'bbox_head']),
]
