# MMRazor's MGD on the detection demo's pair, for the reproduction benchmark
# (tools/demo/reproduce_detection.py): the CanKD demo config with the
# same FPN recorders (P3-P6) and its losses replaced; alpha_mgd 2e-5 and
# lambda_mgd 0.65 as in MMRazor's RetinaNet MGD config, for the demo FPN's
# 64 channels.
_base_ = './cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'

model = dict(
    distiller=dict(
        connectors={
            f's_fpn{i}_connector': dict(
                type='MGDConnector',
                student_channels=64,
                teacher_channels=64,
                lambda_mgd=0.65)
            for i in range(4)
        },
        distill_losses=dict(
            _delete_=True,
            **{
                f'loss_mgd_fpn{i}': dict(type='MGDLoss', alpha_mgd=0.00002)
                for i in range(4)
            }),
        loss_forward_mappings=dict(
            _delete_=True,
            **{
                f'loss_mgd_fpn{i}': dict(
                    preds_S=dict(
                        from_student=True,
                        recorder='fpn',
                        data_idx=i,
                        connector=f's_fpn{i}_connector'),
                    preds_T=dict(from_student=False, recorder='fpn',
                                 data_idx=i))
                for i in range(4)
            })))
