# CanKD: FCOS R101 -> FCOS R50, P3-P6, 2x. Paper: 38.5 -> 42.4 AP (42.4 with
# the inheriting strategy, see the cankd-inherit_ variant).
# mmdet's FCOS R50/R101 with zoo weights use caffe-style backbones; teacher
# (40.8 AP) and student (38.5 AP) are the same recipe (GN head, no
# center-sampling/GIoU tricks, caffe normalisation, which the teacher also
# receives: FpnTeacherDistill feeds it the student's preprocessed batch).
# Data and optimiser are the CanKD base's (single-scale 1333x800, SGD 0.005),
# not mmdet's FCOS recipe (640-800 multi-scale, lr 0.01, bias lr x2).
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth')  # noqa: E501
