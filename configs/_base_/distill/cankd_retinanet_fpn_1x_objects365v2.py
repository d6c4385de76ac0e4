# CanKD on Objects365v2: mmdet's retinanet_r50_fpn_1x_objects365v2.py (data,
# 1x schedule with its 10k-iteration warm-up) with its model as both student
# and teacher; a pair changes the teacher and sets teacher_ckpt. Distiller
# and optimiser as in cankd_fpn_detection_2x.py: P3-P6, SGD lr 0.005 for
# 2 GPUs x 2 images, gradient clip 35.
_base_ = [
    'mmdet::objects365/retinanet_r50_fpn_1x_objects365v2.py',
    './cankd_neck_distillers.py',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    architecture=_base_.model,
    teacher=_base_.model,
    teacher_ckpt=None,
    distiller=_base_.cankd_fpn_distiller)

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
train_dataloader = dict(batch_size=2, num_workers=2)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
