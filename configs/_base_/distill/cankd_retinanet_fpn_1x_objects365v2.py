# The CanKD FPN distiller (cankd_fpn.py, P3-P6) with mmdet's Objects365v2
# data, 1x schedule (with mmdet's 10k-iteration warm-up for this dataset)
# and runtime, and the paper's optimiser: SGD lr 0.005 for 2 GPUs x 2
# images, gradient clip 35. It replaces the student's own recipe.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
_base_ = [
    'mmdet::_base_/datasets/objects365v2_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    './cankd_fpn.py',
]

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

# --auto-scale-lr rescales lr linearly for other total batch sizes.
train_dataloader = dict(batch_size=2, num_workers=2)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0 / 1000,
        by_epoch=False,
        begin=0,
        end=10000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=4)
