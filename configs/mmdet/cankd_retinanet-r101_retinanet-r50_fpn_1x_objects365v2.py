# CanKD on Objects365v2: RetinaNet R101 -> RetinaNet R50, P3-P6, 1x.
# Paper: 16.7 -> 18.4 AP.
# mmdet's model zoo has no RetinaNet R101 on Objects365v2: train the teacher
# first (mmdet's retinanet_r50_fpn_1x_objects365v2.py with
# model.backbone.depth=101 and torchvision://resnet101, as `teacher` below
# says) and set model.teacher_ckpt here or with --cfg-options
# model.teacher_ckpt=PATH. Training refuses to start while it is None
# (DistillationCheckHook).
_base_ = '../_base_/distill/cankd_retinanet_fpn_1x_objects365v2.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::objects365/retinanet_r50_fpn_1x_objects365v2.py'),
    teacher=dict(
        cfg_path='mmdet::objects365/retinanet_r50_fpn_1x_objects365v2.py',
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101'))),
    teacher_ckpt=None)
