# Copyright (c) cankd contributors. All rights reserved.
"""torchvision's MobileNetV2 weights remapped onto mmdet's and mmseg's
MobileNetV2: names strict-load, and the backbones then compute what
torchvision's network computes (checked against a plain-torch forward of the
torchvision-layout state dict, since torchvision is not installed)."""
import os.path as osp
from typing import Dict, List, Sequence

import pytest
import torch
import torch.nn.functional as F


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WEIGHTS = {
    flavour: osp.join(ROOT, 'data', 'weights',
                      f'mobilenet_v2_imagenet_{flavour}.pth')
    for flavour in ('mmdet', 'mmseg')
}
#: mmseg's ``mobilenet-v2-d8_deeplabv3_*`` backbone (BN for SyncBN: same keys).
MMSEG_D8 = dict(strides=(1, 2, 2, 1, 1, 1, 1),
                dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 2, 4, 6))
TORCHVISION_STRIDES = (1, 2, 2, 2, 1, 2, 1)
STAGE_BLOCKS = (1, 2, 3, 4, 3, 3, 1)


@pytest.fixture(scope='module')
def mapping(tool_module):
    """tools/data/mobilenet_v2_weights.py, the key mapping under test."""
    return tool_module('tools/data/mobilenet_v2_weights.py')


def mmdet_backbone() -> torch.nn.Module:
    from mmdet.models.backbones import MobileNetV2
    model = MobileNetV2(out_indices=(2, 4, 6))
    model.eval()  # its train() returns None, so no chaining
    return model


def mmseg_backbone() -> torch.nn.Module:
    from mmseg.models.backbones import MobileNetV2
    model = MobileNetV2(widen_factor=1., **MMSEG_D8)
    model.eval()
    return model


def _conv_bn(sd: Dict[str, torch.Tensor], conv: str, bn: str,
             x: torch.Tensor, stride: int = 1, dilation: int = 1,
             groups: int = 1, relu6: bool = True) -> torch.Tensor:
    weight = sd[f'{conv}.weight']
    x = F.conv2d(x, weight, None, stride, dilation * (weight.shape[-1] // 2),
                 dilation, groups)
    x = F.batch_norm(x, sd[f'{bn}.running_mean'], sd[f'{bn}.running_var'],
                     sd[f'{bn}.weight'], sd[f'{bn}.bias'], training=False,
                     eps=1e-5)
    return x.clamp(0, 6) if relu6 else x


def torchvision_forward(
        sd: Dict[str, torch.Tensor], x: torch.Tensor,
        strides: Sequence[int] = TORCHVISION_STRIDES,
        dilations: Sequence[int] = (1, ) * 7) -> List[torch.Tensor]:
    """torchvision's ``MobileNetV2.features`` in eval mode, in plain torch ops,
    reading torchvision's state-dict keys. Stride and dilation apply to the
    first block of a stage, as in the mm backbones.

    Returns:
        The stem's output, then the output of each of the 7 stages, then that
        of ``features.18`` if ``sd`` has it.
    """
    x = _conv_bn(sd, 'features.0.0', 'features.0.1', x, stride=2)
    outs = [x]
    index = 1
    for stage, num_blocks in enumerate(STAGE_BLOCKS):
        for block in range(num_blocks):
            p = f'features.{index}.conv'
            stride = strides[stage] if block == 0 else 1
            dilation = dilations[stage] if block == 0 else 1
            y = x
            k = 0
            if f'{p}.3.weight' in sd:  # expand, depthwise, linear conv + BN
                y = _conv_bn(sd, f'{p}.0.0', f'{p}.0.1', y)
                k = 1
            y = _conv_bn(sd, f'{p}.{k}.0', f'{p}.{k}.1', y, stride, dilation,
                         groups=y.shape[1])
            y = _conv_bn(sd, f'{p}.{k + 1}', f'{p}.{k + 2}', y, relu6=False)
            x = x + y if stride == 1 and x.shape == y.shape else y
            index += 1
        outs.append(x)
    if 'features.18.0.weight' in sd:
        outs.append(_conv_bn(sd, 'features.18.0', 'features.18.1', x))
    return outs


def check_same_features(tv_sd: Dict[str, torch.Tensor],
                        mmdet: torch.nn.Module,
                        mmseg: torch.nn.Module) -> None:
    """Both loaded backbones compute torchvision's features."""
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    x = (x - 0.45) / 0.225  # roughly ImageNet-normalised
    close = dict(rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        ref = torchvision_forward(tv_sd, x)
        # conv1 + layer1 (the first block), module by module.
        torch.testing.assert_close(mmdet.conv1(x), ref[0], **close)
        torch.testing.assert_close(
            mmdet.layer1(mmdet.conv1(x)), ref[1], **close)
        outs = mmdet(x)  # out_indices (2, 4, 6): layer3, layer5, layer7
        for out, stage in zip(outs, (3, 5, 7)):
            torch.testing.assert_close(out, ref[stage], **close)
        torch.testing.assert_close(mmdet.conv2(outs[-1]), ref[8], **close)

        ref = torchvision_forward(tv_sd, x, MMSEG_D8['strides'],
                                  MMSEG_D8['dilations'])
        outs = mmseg(x)  # out_indices (1, 2, 4, 6): layer2, 3, 5, 7
        assert outs[-1].shape[-1] == 64 // 8  # output stride 8
        for out, stage in zip(outs, (2, 3, 5, 7)):
            torch.testing.assert_close(out, ref[stage], **close)


def fake_torchvision_state_dict(mapping) -> Dict[str, torch.Tensor]:
    """A random torchvision-layout state dict of the right keys and shapes:
    mmdet's backbone state dict mapped backwards, with random values
    (BN statistics included, so that a swap of two BN tensors shows), plus a
    classifier."""
    gen = torch.Generator().manual_seed(1)
    fake = {}
    for key, value in mmdet_backbone().state_dict().items():
        if key.endswith('num_batches_tracked'):
            fake[key] = torch.tensor(7)
        elif value.dim() == 4:  # conv: He-initialised, to keep values sane
            fan_in = value[0].numel()
            fake[key] = torch.randn(value.shape, generator=gen) * (
                2 / fan_in)**0.5
        elif key.endswith(('.weight', 'running_var')):
            fake[key] = 0.5 + torch.rand(value.shape, generator=gen)
        else:  # bias, running_mean
            fake[key] = 0.2 * torch.randn(value.shape, generator=gen)
    tv_sd = mapping.unmap_to_torchvision(fake, 'mmdet')
    tv_sd['classifier.1.weight'] = torch.zeros(1000, 1280)
    tv_sd['classifier.1.bias'] = torch.zeros(1000)
    return tv_sd


@pytest.mark.parametrize('key, mmdet_key, mmseg_key', [
    ('features.0.0.weight', 'conv1.conv.weight', 'conv1.conv.weight'),
    ('features.0.1.running_mean', 'conv1.bn.running_mean',
     'conv1.bn.running_mean'),
    ('features.1.conv.0.0.weight', 'layer1.0.depthwise_conv.conv.weight',
     'layer1.0.conv.0.conv.weight'),
    ('features.1.conv.1.weight', 'layer1.0.linear_conv.conv.weight',
     'layer1.0.conv.1.conv.weight'),
    ('features.1.conv.2.bias', 'layer1.0.linear_conv.bn.bias',
     'layer1.0.conv.1.bn.bias'),
    ('features.2.conv.0.1.weight', 'layer2.0.expand_conv.bn.weight',
     'layer2.0.conv.0.bn.weight'),
    ('features.3.conv.1.1.running_var',
     'layer2.1.depthwise_conv.bn.running_var',
     'layer2.1.conv.1.bn.running_var'),
    ('features.4.conv.2.weight', 'layer3.0.linear_conv.conv.weight',
     'layer3.0.conv.2.conv.weight'),
    ('features.10.conv.3.num_batches_tracked',
     'layer4.3.linear_conv.bn.num_batches_tracked',
     'layer4.3.conv.2.bn.num_batches_tracked'),
    ('features.17.conv.1.0.weight', 'layer7.0.depthwise_conv.conv.weight',
     'layer7.0.conv.1.conv.weight'),
    ('features.18.0.weight', 'conv2.conv.weight', None),
    ('features.18.1.bias', 'conv2.bn.bias', None),
    ('classifier.1.weight', None, None),
])
def test_key_mapping_table(mapping, key, mmdet_key, mmseg_key):
    assert mapping.map_torchvision_key(key, 'mmdet') == mmdet_key
    assert mapping.map_torchvision_key(key, 'mmseg') == mmseg_key


@pytest.mark.parametrize('key', [
    'features.19.0.weight', 'features.1.conv.3.weight',
    'features.2.conv.4.weight', 'features.0.0.bias', 'backbone.conv1.weight'])
def test_unknown_keys_are_refused(mapping, key):
    with pytest.raises(KeyError):
        mapping.map_torchvision_key(key, 'mmdet')


def test_remapped_fake_weights_compute_torchvision_features(mapping):
    tv_sd = fake_torchvision_state_dict(mapping)
    assert len(tv_sd) == 314  # as torchvision's mobilenet_v2-b0353104.pth
    mmdet, mmseg = mmdet_backbone(), mmseg_backbone()
    mmdet_sd = mapping.convert_torchvision_mobilenet_v2(tv_sd, 'mmdet')
    mmseg_sd = mapping.convert_torchvision_mobilenet_v2(tv_sd, 'mmseg')
    assert set(mmdet_sd) == set(mmdet.state_dict())
    assert set(mmseg_sd) == set(mmseg.state_dict())
    mmdet.load_state_dict(mmdet_sd, strict=True)
    mmseg.load_state_dict(mmseg_sd, strict=True)
    check_same_features(tv_sd, mmdet, mmseg)


@pytest.mark.skipif(
    not all(osp.isfile(p) for p in WEIGHTS.values()),
    reason='ImageNet MobileNetV2 weights absent: run '
    '`python tools/data/fetch_mobilenet_v2.py` to create '
    'data/weights/mobilenet_v2_imagenet_{mmdet,mmseg}.pth')
def test_imagenet_weights_load_strictly_and_match_torchvision(mapping):
    ckpts = {flavour: torch.load(path, map_location='cpu', weights_only=True)
             for flavour, path in WEIGHTS.items()}
    mmdet, mmseg = mmdet_backbone(), mmseg_backbone()
    for flavour, model in (('mmdet', mmdet), ('mmseg', mmseg)):
        ckpt = ckpts[flavour]
        assert ckpt['meta']['source'] == 'torchvision mobilenet_v2-b0353104'
        assert ckpt['meta']['sha256'].startswith('b0353104')
        assert set(ckpt['state_dict']) == set(model.state_dict())
        model.load_state_dict(ckpt['state_dict'], strict=True)
        # ImageNet BN statistics were carried over, not left at 0 / 1.
        bn = model.layer4[0].conv[1].bn if flavour == 'mmseg' else \
            model.layer4[0].depthwise_conv.bn
        assert bn.running_mean.abs().mean() > 1e-3
        assert (bn.running_var - 1).abs().mean() > 1e-3
        assert model.conv1.bn.running_mean.abs().mean() > 1e-3
    # The mmseg file is the mmdet file without conv2.
    mmdet_sd = ckpts['mmdet']['state_dict']
    mmseg_sd = ckpts['mmseg']['state_dict']
    assert len(mmdet_sd) == 312 and len(mmseg_sd) == 306
    assert torch.equal(mmdet_sd['layer7.0.linear_conv.bn.running_mean'],
                       mmseg_sd['layer7.0.conv.2.bn.running_mean'])
    check_same_features(mapping.unmap_to_torchvision(mmdet_sd, 'mmdet'),
                        mmdet, mmseg)
