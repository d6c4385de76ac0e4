# CanKD: Cascade Mask R-CNN X101-64x4d (20e, 45.6 AP) -> Faster R-CNN R50,
# P2-P5, 2x. Paper: 38.4 -> 42.0 AP (42.5 with the inheriting strategy, see
# the cankd-inherit_ variant). Only backbone + neck of the teacher run.
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(
        cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::cascade_rcnn/cascade-mask-rcnn_x101-64x4d_fpn_20e_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/cascade_rcnn/cascade_mask_rcnn_x101_64x4d_fpn_20e_coco/cascade_mask_rcnn_x101_64x4d_fpn_20e_coco_20200512_161033-bdb5126a.pth')  # noqa: E501
