# Worked example: pair levels by stride when the necks start at different
# levels. The Faster R-CNN R101 teacher's FPN outputs P2-P6 (start_level=0),
# the RetinaNet R50 student's P3-P7 (start_level=1): student output i (P3+i)
# meets teacher output i + 1 (also P3+i). Pairing by index would compare P3
# with P2 (tools/analysis/check_config.py refuses it and prints this fix).
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'),
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth',  # noqa: E501
    distiller=dict(loss_forward_mappings={
        f'loss_can_fpn{i}': dict(t_feature=dict(data_idx=i + 1))
        for i in range(4)
    }))
