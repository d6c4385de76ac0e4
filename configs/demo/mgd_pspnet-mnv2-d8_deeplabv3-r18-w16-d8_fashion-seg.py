# MMRazor's MGD on the segmentation demo's pair, for the reproduction
# benchmark (tools/demo/reproduce_segmentation.py): the CanKD demo config
# with the same recorders (the backbone outputs: the student's
# backbone.layer4, 128 channels, the teacher's backbone.layer7, 320
# channels, both at stride 8) and its connector and loss replaced by MGD's.
# alpha_mgd 2e-5 and lambda_mgd 0.75 are the MGD paper's segmentation
# values (its official configs); MGD's generation block (MMRazor's
# MGDConnector) maps the student's channels to the teacher's, so no 1x1
# connector. Only MGD's feature loss: its paper also adds a logit loss on
# Cityscapes, which is CWD's (configs/demo/cwd_...).
_base_ = './cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_fashion-seg.py'

model = dict(
    distiller=dict(
        connectors=dict(
            _delete_=True,
            s_bb=dict(
                type='MGDConnector',
                student_channels=128,
                teacher_channels=320,
                lambda_mgd=0.75)),
        distill_losses=dict(
            _delete_=True,
            loss_mgd=dict(type='MGDLoss', alpha_mgd=0.00002)),
        loss_forward_mappings=dict(
            _delete_=True,
            loss_mgd=dict(
                preds_S=dict(
                    from_student=True, recorder='bb', connector='s_bb'),
                preds_T=dict(from_student=False, recorder='bb')))))
