# CanKD: RetinaNet R101 -> RetinaNet R50, P3-P6, 2x. Paper: 37.4 -> 39.7 AP.
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')  # noqa: E501
