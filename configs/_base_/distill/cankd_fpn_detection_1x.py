# cankd_fpn_detection_2x.py on mmdet's 1x schedule (12 epochs, steps 8 and
# 11): the paper's recipe for its heterogeneous pair. Like the 2x base it
# REPLACES the student detector's own recipe.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
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
auto_scale_lr = dict(enable=False, base_batch_size=4)
