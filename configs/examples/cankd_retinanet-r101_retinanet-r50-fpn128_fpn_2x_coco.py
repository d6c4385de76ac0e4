# Worked example: a student with fewer channels than its teacher. The
# RetinaNet R50 student gets a 128-channel FPN and head (overrides beside
# cfg_path reach the built model), and each distilled level a 1x1
# convolution (no norm, no activation) that maps its 128 channels to the
# teacher's 256 before CanLoss. The connectors train with the loss and are
# dropped by the converter with the rest of the distiller.
_base_ = '../mmdet/cankd_retinanet-r101_retinanet-r50_fpn_2x_coco.py'

model = dict(
    architecture=dict(
        neck=dict(out_channels=128),
        bbox_head=dict(in_channels=128, feat_channels=128)),
    distiller=dict(
        connectors={
            f's_fpn{i}': dict(
                type='ConvModuleConnector', in_channel=128, out_channel=256,
                kernel_size=1, norm_cfg=None, act_cfg=None)
            for i in range(4)
        },
        loss_forward_mappings={
            f'loss_can_fpn{i}': dict(s_feature=dict(connector=f's_fpn{i}'))
            for i in range(4)
        }))
