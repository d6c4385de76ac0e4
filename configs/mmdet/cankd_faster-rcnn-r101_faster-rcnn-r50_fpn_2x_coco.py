# CanKD: Faster R-CNN R101 -> Faster R-CNN R50, P2-P5, 2x.
# Paper: 38.4 -> 40.1 AP (40.7 with the inheriting strategy, see
# cankd-inherit_faster-rcnn-r101_faster-rcnn-r50_fpn_2x_coco.py).
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth')  # noqa: E501
