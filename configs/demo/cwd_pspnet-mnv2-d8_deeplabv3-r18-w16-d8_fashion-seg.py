# MMRazor's CWD on the segmentation demo's pair, for the reproduction
# benchmark (tools/demo/reproduce_segmentation.py): channel-wise
# distillation of the logits (decode_head.conv_seg of both models, 11
# classes at stride 8), tau 1 and loss weight 5 as in MMRazor's
# cwd_logits_pspnet_r101-d8_pspnet_r18-d8 Cityscapes config. The CanKD
# demo config's recorders, connector and loss are replaced.
_base_ = './cankd_pspnet-mnv2-d8_deeplabv3-r18-w16-d8_fashion-seg.py'

model = dict(
    distiller=dict(
        student_recorders=dict(
            _delete_=True,
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        teacher_recorders=dict(
            _delete_=True,
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        connectors=dict(_delete_=True),
        distill_losses=dict(
            _delete_=True,
            loss_cwd=dict(type='ChannelWiseDivergence', tau=1, loss_weight=5)),
        loss_forward_mappings=dict(
            _delete_=True,
            loss_cwd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))
