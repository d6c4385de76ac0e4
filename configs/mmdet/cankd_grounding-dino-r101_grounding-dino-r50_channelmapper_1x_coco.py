# CanKD: GroundingDINO R101 -> GroundingDINO R50 (trained from scratch on
# COCO), ChannelMapper outputs 0-2 (strides 8, 16, 32; 256 channels),
# 12 epochs, mmdet's recipe (AdamW lr 1e-4 for 8 GPUs x 2 images).
# Paper: 48.9 -> 49.8 AP.
# Not buildable offline: both models need `transformers` and the
# 'bert-base-uncased' weights from the Hugging Face hub, and `fairscale` for
# mmdet's encoder checkpointing; see the base config.
_base_ = '../_base_/distill/cankd_grounding-dino_1x_coco.py'

# mmdet's model zoo has no GroundingDINO R101: train the teacher first (the
# mmdet R50 scratch recipe with model.backbone.depth=101 and
# torchvision://resnet101) and set its checkpoint here or with --cfg-options
# model.teacher_ckpt=PATH. Training refuses to start while it is None.
model = dict(
    teacher=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101'))),
    teacher_ckpt=None)
