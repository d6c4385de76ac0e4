# MMRazor's PKD on the detection demo's pair, for the reproduction benchmark
# (tools/demo/reproduce_detection.py): the CanKD demo config with the
# same FPN recorders (P3-P6) and its losses replaced; loss weight 10 as in
# MMRazor's RetinaNet PKD config.
_base_ = './cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'

model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            **{
                f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=10)
                for i in range(4)
            }),
        loss_forward_mappings=dict(
            _delete_=True,
            **{
                f'loss_pkd_fpn{i}': dict(
                    preds_S=dict(from_student=True, recorder='fpn',
                                 data_idx=i),
                    preds_T=dict(from_student=False, recorder='fpn',
                                 data_idx=i))
                for i in range(4)
            })))
