# Worked example: three levels instead of four. The RetinaNet R101 -> R50
# pair distilled on P3-P5 (neck outputs 0-2) only. mmengine merges dicts key
# by key, so dropping a level means replacing both dicts (_delete_=True).
_base_ = '../mmdet/cankd_retinanet-r101_retinanet-r50_fpn_2x_coco.py'

model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            **{
                f'loss_can_fpn{i}': dict(
                    type='CanLoss', in_channels=256, loss_weight=10)
                for i in range(3)
            }),
        loss_forward_mappings=dict(
            _delete_=True,
            **{
                f'loss_can_fpn{i}': dict(
                    s_feature=dict(
                        from_student=True, recorder='fpn', data_idx=i),
                    t_feature=dict(
                        from_student=False, recorder='fpn', data_idx=i))
                for i in range(3)
            })))
