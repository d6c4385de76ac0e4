# CanKD: RetinaNet X101-64x4d (1x, 41.0 AP) -> RetinaNet R50, P3-P6, 2x.
# Paper: 37.4 -> 41.0 AP (41.1 with the inheriting strategy, see the
# cankd-inherit_ variant).
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_x101_64x4d_fpn_1x_coco/retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth')  # noqa: E501
