# CanKD on Objects365v2: RetinaNet R101 -> RetinaNet R50, P3-P6, 1x.
# Paper: 16.7 -> 18.4 AP.
_base_ = '../_base_/distill/cankd_retinanet_fpn_1x_objects365v2.py'

# mmdet's model zoo has no RetinaNet R101 on Objects365v2: train the teacher
# first (mmdet's retinanet_r50_fpn_1x_objects365v2.py with
# model.backbone.depth=101 and torchvision://resnet101) and set its
# checkpoint here or with --cfg-options model.teacher_ckpt=PATH. Training
# refuses to start while it is None (DistillationCheckHook).
teacher_ckpt = None

model = dict(
    teacher=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101'))),
    teacher_ckpt=teacher_ckpt)
