# Copyright (c) cankd contributors. All rights reserved.
"""cankd's MobileNetV1, the student of the paper's ResNet-50 -> MobileNetV1
ImageNet pair (mmpretrain has none): the plain MobileNetV1 of the MGD
classification code, built by an ``_scope_='mmpretrain'`` config."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from cankd.models.backbones import MobileNetV1


def imagenet_classifier(**backbone) -> torch.nn.Module:
    """mmpretrain's ImageNet classifier around MobileNetV1, as
    configs/mmpretrain/mobilenet-v1_8xb32_in1k.py builds it."""
    width = backbone.get('widen_factor', 1.0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(
            dict(type='ImageClassifier',
                 backbone=dict(type='MobileNetV1', **backbone),
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='LinearClsHead', num_classes=1000,
                           in_channels=int(1024 * width))))


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_imagenet_model_has_the_papers_size():
    """4.2 M parameters: 3.2 M in the 13 depthwise-separable blocks and
    stem, 1.025 M in the 1000-way classifier."""
    model = imagenet_classifier()
    assert isinstance(model.backbone, MobileNetV1)
    assert num_params(model.backbone) == 3_206_976
    assert num_params(model) == 3_206_976 + 1024 * 1000 + 1000


def test_last_block_has_1024_channels_at_stride_32():
    backbone = MobileNetV1()
    features = backbone(torch.zeros(2, 3, 224, 160))
    assert [tuple(f.shape) for f in features] == [(2, 1024, 7, 5)]
    # The module a distiller records: backbone.layer13.
    assert backbone.layer13[1].conv.out_channels == 1024
    assert not hasattr(backbone, 'layer14')


def test_blocks_are_depthwise_then_pointwise():
    block = MobileNetV1().layer2
    depthwise, pointwise = block[0].conv, block[1].conv
    assert (depthwise.groups, depthwise.kernel_size, depthwise.stride) == \
        (64, (3, 3), (2, 2))
    assert (pointwise.kernel_size, pointwise.out_channels) == ((1, 1), 128)


def test_out_indices_and_widen_factor():
    backbone = MobileNetV1(widen_factor=0.5, out_indices=(0, 5, 11, 13))
    shapes = [tuple(f.shape) for f in backbone(torch.zeros(1, 3, 64, 64))]
    # conv1 (stride 2), layer5 (stride 8), layer11 (16), layer13 (32).
    assert shapes == [(1, 16, 32, 32), (1, 128, 8, 8), (1, 256, 4, 4),
                      (1, 512, 2, 2)]


def test_frozen_stages_and_norm_eval_survive_train():
    backbone = MobileNetV1(frozen_stages=2, norm_eval=True)
    backbone.train()
    for name in ('conv1', 'layer1', 'layer2'):
        layer = getattr(backbone, name)
        assert not layer.training, name
        assert not any(p.requires_grad for p in layer.parameters()), name
    assert all(p.requires_grad for p in backbone.layer3.parameters())
    assert not backbone.layer3[0].bn.training  # norm_eval
    assert backbone.layer3.training


@pytest.mark.parametrize('kwargs, message', [
    (dict(widen_factor=0), 'widen_factor must be positive'),
    (dict(out_indices=(14, )), r'out_indices entries must be in 0\.\.13'),
    (dict(frozen_stages=14), r'frozen_stages must be in -1\.\.13'),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MobileNetV1(**kwargs)
