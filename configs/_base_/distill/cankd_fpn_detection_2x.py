# CanKD on FPN levels 0-3 (see cankd_fpn.py) with mmdet's COCO data, 2x
# schedule and runtime, and the paper's recipe. A pair's config adds
# architecture, teacher and teacher_ckpt to `model`.
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_2x.py',
    'mmdet::_base_/default_runtime.py',
    './cankd_fpn.py',
]

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

# The paper's recipe: 2 GPUs x 2 images, SGD lr 0.005, gradient clip 35;
# --auto-scale-lr rescales lr linearly for other total batch sizes.
train_dataloader = dict(batch_size=2, num_workers=2)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
