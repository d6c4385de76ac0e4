# CanKD on the backbone output (see cankd_segmentation.py) with mmseg's
# Cityscapes data (512x1024 crops), 80k schedule (SGD lr 0.01, momentum 0.9,
# wd 5e-4, poly) and runtime: the paper's recipe for 4 GPUs x 2 images.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    'mmseg::_base_/default_runtime.py',
    './cankd_segmentation.py',
]

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# The check before training runs both models once at the crop size.
custom_hooks = [
    dict(type='mmrazor.DistillationCheckHook', image_size=(512, 1024))
]
# --auto-scale-lr rescales lr linearly for another total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=8)
