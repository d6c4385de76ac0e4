# ACAM-KD (unofficial re-implementation, cankd's ACAMLoss) on the detection
# demo's pair, for the reproduction benchmark
# (tools/demo/reproduce_detection.py): the CanKD demo config with the
# same FPN recorders (P3-P6, as for CanKD, PKD and MGD) and its losses
# replaced; the paper's detection hyper-parameters: M = 6 masks,
# alpha = lambda = 1. No inheritance, as for the other methods.
_base_ = './cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'

model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            **{
                f'loss_acam_fpn{i}': dict(
                    type='ACAMLoss',
                    in_channels=64,
                    num_masks=6,
                    alpha=1.0,
                    diversity_weight=1.0)
                for i in range(4)
            }),
        loss_forward_mappings=dict(
            _delete_=True,
            **{
                f'loss_acam_fpn{i}': dict(
                    s_feature=dict(from_student=True, recorder='fpn',
                                   data_idx=i),
                    t_feature=dict(from_student=False, recorder='fpn',
                                   data_idx=i))
                for i in range(4)
            })))
