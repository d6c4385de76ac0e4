# CanKD, heterogeneous (supplementary Table 6): Mask R-CNN Swin-S (48.2 AP)
# -> RetinaNet R50, 2x. Paper: 37.4 -> 40.5 AP.
# The teacher's FPN starts at P2 (start_level=0: P2-P6), the student's at P3
# (P3-P7): levels are paired by stride, teacher outputs 1-4 against student
# outputs 0-3 (P3-P6 on both sides; DistillationCheckHook checks it). Both
# models normalise alike (mean/std, RGB).
_base_ = '../_base_/distill/cankd_fpn_detection_2x.py'

model = dict(
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'),
    teacher=dict(
        cfg_path='mmdet::swin/mask-rcnn_swin-s-p4-w7_fpn_amp-ms-crop-3x_coco.py'),  # noqa: E501
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/swin/mask_rcnn_swin-s-p4-w7_fpn_fp16_ms-crop-3x_coco/mask_rcnn_swin-s-p4-w7_fpn_fp16_ms-crop-3x_coco_20210903_104808-b92c91f1.pth',  # noqa: E501
    distiller=dict(loss_forward_mappings={
        f'loss_can_fpn{i}': dict(t_feature=dict(data_idx=i + 1))
        for i in range(4)
    }))
