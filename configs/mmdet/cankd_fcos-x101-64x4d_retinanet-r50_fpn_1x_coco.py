# CanKD, heterogeneous: FCOS X101-64x4d (42.6 AP) -> RetinaNet R50, P3-P6,
# 1x. Paper: 37.4 -> 40.5 AP.
# Both necks output P3-P7 (FPN start_level=1, 5 outputs), so indices 0-3 are
# P3-P6 on both sides (DistillationCheckHook checks the strides). Both use
# pytorch-style normalisation (mean/std, RGB), so the teacher sees the input
# it was trained on.
_base_ = '../_base_/distill/cankd_fpn_detection_1x.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::fcos/fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_x101_64x4d_fpn_gn-head_mstrain_640-800_2x_coco/fcos_x101_64x4d_fpn_gn-head_mstrain_640-800_2x_coco-ede514a8.pth')  # noqa: E501
