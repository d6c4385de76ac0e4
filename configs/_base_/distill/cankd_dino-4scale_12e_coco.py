# CanKD for DINO: mmdet's dino-4scale_r50_8xb2-12e_coco.py as it is (data,
# AdamW lr 1e-4 with backbone lr x0.1, grad clip 0.1, 12 epochs, step at 11)
# with its model as both student and teacher; a pair changes the teacher
# (e.g. model.teacher.backbone.depth) and sets teacher_ckpt.
# SingleTeacherDistill runs the whole teacher (the DETR family's encoder does
# not change the distilled neck outputs, but this is the paper's setting).
_base_ = [
    'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py',
    './cankd_neck_distillers.py',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=_base_.model,
    teacher=_base_.model,
    teacher_ckpt=None,
    distiller=_base_.cankd_detr_distiller)

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
