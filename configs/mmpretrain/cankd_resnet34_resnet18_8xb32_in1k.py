# CanKD: ResNet-34 -> ResNet-18, ImageNet-1k, 100 epochs (supplementary §9).
# Layer: backbone.layer4 (stride 32, 512 channels on both: no connector);
# mu = 5 (loss_weight=10).
# Teacher (mmpretrain metafile): 73.62 top-1; student alone: 69.90.
_base_ = '../_base_/distill/cankd_classification_imagenet-100e.py'

# teacher_ckpt: the Weights of resnet34_8xb32_in1k in mmpretrain's metafile.yml.
model = dict(
    architecture=dict(cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py'),
    teacher=dict(cfg_path='mmpretrain::resnet/resnet34_8xb32_in1k.py'),
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/resnet/resnet34_8xb32_in1k_20210831-f257d4e6.pth')  # noqa: E501
