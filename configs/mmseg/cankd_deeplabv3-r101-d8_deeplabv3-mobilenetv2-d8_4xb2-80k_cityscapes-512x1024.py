# CanKD: DeepLabV3 R101-d8 -> DeepLabV3 MobileNetV2-d8, Cityscapes, 80k,
# 512x1024 crops.
# Layer: the backbone output, backbone.layer7 of the MobileNetV2 student
# (320 channels, stride 8; mapped to 2048 by the 1x1 ConvModuleConnector)
# against backbone.layer4 of the teacher; mu = 5 (loss_weight=10).
# Paper: 73.84 -> 75.62 mIoU (teacher 80.31).
_base_ = '../_base_/distill/cankd_segmentation_cityscapes-80k.py'

# teacher_ckpt: the Weights of deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 in mmseg's metafile.yaml.
model = dict(
    architecture=dict(
        cfg_path='mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb2-80k_cityscapes-512x1024.py'),  # noqa: E501
    teacher=dict(
        cfg_path='mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py'),  # noqa: E501
    teacher_ckpt='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_80k_cityscapes/deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth',
    distiller=dict(
        student_recorders=dict(bb=dict(source='backbone.layer7')),
        connectors=dict(s_bb=dict(in_channel=320))))
