# CanKD on FPN levels 0-3 of a CNN detector with FpnTeacherDistill (the
# teacher runs backbone + neck only). Levels are neck outputs by index;
# DistillationCheckHook checks before training that the teacher has weights
# and that each student level meets a teacher level of the same stride.
# A pair's config adds architecture, teacher and teacher_ckpt to `model`.
_base_ = './cankd_neck_distillers.py'

model = dict(
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    distiller=_base_.cankd_fpn_distiller)
