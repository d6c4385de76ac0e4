# The paper's detection recipe around the CanKD FPN distiller
# (cankd_fpn.py): mmdet's COCO data (1333x800, flip), 2x schedule (24 epochs,
# steps 16 and 22) and runtime, SGD lr 0.005 for 2 GPUs x 2 images,
# momentum 0.9, wd 1e-4, gradient clip 35.
# It REPLACES the student detector's own recipe (its optimiser, schedule,
# pipeline and hooks): right for the paper's pairs. For a detector with a
# recipe of its own (RTMDet: AdamW, mosaic, EMA), inherit that detector's
# config instead and wrap its model, as
# configs/examples/cankd_rtmdet-l_rtmdet-tiny_neck_300e_coco.py does.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_2x.py',
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
