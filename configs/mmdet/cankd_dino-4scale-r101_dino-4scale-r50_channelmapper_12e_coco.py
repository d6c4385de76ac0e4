# CanKD: DINO-4scale R101 -> DINO-4scale R50, ChannelMapper outputs 0-2
# (strides 8, 16, 32; 256 channels), 12 epochs, mmdet's DINO recipe (AdamW
# lr 1e-4 for 8 GPUs x 2 images). Paper: 49.0 -> 49.7 AP.
_base_ = '../_base_/distill/cankd_dino-4scale_12e_coco.py'

# mmdet's model zoo has no DINO R101: train the teacher first (the mmdet R50
# recipe with model.backbone.depth=101 and torchvision://resnet101) and set
# its checkpoint here or with --cfg-options model.teacher_ckpt=PATH. Training
# refuses to start while it is None (DistillationCheckHook).
model = dict(
    teacher=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101'))),
    teacher_ckpt=None)
