# CanKD: DeepLabV3 R101-d8 -> DeepLabV3 R18-d8, Cityscapes, 80k, 512x1024
# crops.
# Layer: backbone.layer4 (stride 8), student 512 -> 2048 channels through a
# 1x1 ConvModuleConnector; mu = 5 (loss_weight=10).
# Paper: 76.70 -> 77.12 mIoU (teacher 80.31).
_base_ = '../_base_/distill/cankd_segmentation_cityscapes-80k.py'

# teacher_ckpt: the Weights of deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 in mmseg's metafile.yaml.
model = dict(
    architecture=dict(
        cfg_path='mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'),  # noqa: E501
    teacher=dict(
        cfg_path='mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py'),  # noqa: E501
    teacher_ckpt='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_80k_cityscapes/deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth')  # noqa: E501
