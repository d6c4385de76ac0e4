# CanKD: RepPoints (moment, GN) X101-32x4d with DCN in C3-C5 (44.2 AP) ->
# RepPoints R50 (38.6 AP), P3-P6, 2x. Paper: 38.6 -> 42.4 AP (42.6 with the
# inheriting strategy, see the cankd-inherit_ variant).
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::reppoints/reppoints-moment_r50_fpn-gn_head-gn_2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::reppoints/'
        'reppoints-moment_x101-dconv-c3-c5_fpn-gn_head-gn_2x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/reppoints/reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck%2Bhead_2x_coco/reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck%2Bhead_2x_coco_20200329-f87da1ea.pth')  # noqa: E501
