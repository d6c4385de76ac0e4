# Worked example: another loss weight on every level, in one override.
# The RetinaNet R101 -> R50 pair with loss_weight=20 (the paper's mu = 10;
# CanLoss halves the MSE) on all four CanLoss levels.
_base_ = '../mmdet/cankd_retinanet-r101_retinanet-r50_fpn_2x_coco.py'

model = dict(distiller=dict(distill_losses={
    f'loss_can_fpn{i}': dict(loss_weight=20)
    for i in range(4)
}))
