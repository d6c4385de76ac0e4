# CanKD: PSPNet R101-d8 -> DeepLabV3 R18-d8 (heterogeneous heads),
# Cityscapes, 80k, 512x1024 crops.
# Layer: backbone.layer4 (stride 8), student 512 -> 2048 channels through a
# 1x1 ConvModuleConnector; mu = 5 (loss_weight=10).
# Paper (Table 9, mu = 5): 76.70 -> 77.28 mIoU; the paper's main result for
# this pair uses mu = 10: cankd-mu10_<same name>.py.
_base_ = '../_base_/distill/cankd_segmentation_cityscapes-80k.py'

# teacher_ckpt: the Weights of pspnet_r101-d8_4xb2-80k_cityscapes-512x1024 in mmseg's metafile.yaml.
model = dict(
    architecture=dict(
        cfg_path='mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'),  # noqa: E501
    teacher=dict(
        cfg_path='mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py'),  # noqa: E501
    teacher_ckpt='https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/pspnet_r101-d8_512x1024_80k_cityscapes/pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth')  # noqa: E501
