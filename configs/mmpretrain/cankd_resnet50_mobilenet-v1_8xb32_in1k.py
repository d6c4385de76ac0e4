# CanKD: ResNet-50 -> MobileNetV1, ImageNet-1k, 100 epochs (supplementary §9).
# Layer: the last backbone stage, ResNet-50 backbone.layer4 (2048 channels)
# and MobileNetV1 backbone.layer13 (1024 channels, cankd's MobileNetV1),
# both stride 32; the student's channels go to the teacher's through a 1x1
# connector; mu = 5 (loss_weight=10); gradients clipped at norm 5, as in
# the MGD classification recipe the paper follows.
# Teacher (mmpretrain metafile): 76.55 top-1.
_base_ = '../_base_/distill/cankd_classification_imagenet-100e.py'

# teacher_ckpt: the Weights of resnet50_8xb32_in1k in mmpretrain's metafile.yml.
model = dict(
    # mmpretrain's ResNet-18 classifier with cankd's MobileNetV1 backbone:
    # the model of mobilenet-v1_8xb32_in1k.py.
    architecture=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        backbone=dict(_delete_=True, type='MobileNetV1'),
        head=dict(in_channels=1024)),
    teacher=dict(cfg_path='mmpretrain::resnet/resnet50_8xb32_in1k.py'),
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',  # noqa: E501
    distiller=dict(
        student_recorders=dict(bb=dict(source='backbone.layer13')),
        connectors=dict(
            s_bb=dict(
                type='ConvModuleConnector', in_channel=1024, out_channel=2048,
                kernel_size=1, norm_cfg=None, act_cfg=None)),
        distill_losses=dict(loss_can=dict(in_channels=2048)),
        loss_forward_mappings=dict(
            loss_can=dict(s_feature=dict(connector='s_bb')))))
optim_wrapper = dict(clip_grad=dict(max_norm=5, norm_type=2))
