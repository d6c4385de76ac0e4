# Copyright (c) cankd contributors. All rights reserved.
"""Remap torchvision's ImageNet MobileNetV2 weights onto the MobileNetV2
backbones of mmdet and mmseg.

The checkpoint is torchvision's ``mobilenet_v2-b0353104.pth`` (see
``tools/data/fetch_mobilenet_v2.py``). Its state dict is laid out as
``torchvision.models.MobileNetV2``:

* ``features.0``: stem, ``Conv2dNormActivation`` (``.0`` conv, ``.1`` BN);
* ``features.1`` .. ``features.17``: the 17 ``InvertedResidual`` blocks, whose
  ``conv`` Sequential holds ``[expand ConvBNReLU6,] depthwise ConvBNReLU6,
  linear conv, linear BN`` (the first block has no expand conv);
* ``features.18``: the last 1x1 ``Conv2dNormActivation`` (320 -> 1280);
* ``classifier.1``: the ImageNet ``Linear`` (dropped here).

Both OpenMMLab backbones build the same network from ``mmcv.cnn.ConvModule``
(``.conv`` conv, ``.bn`` BN) grouped into seven stages ``layer1`` ..
``layer7`` of 1, 2, 3, 4, 3, 3, 1 blocks; they differ in how a block names
its ConvModules and in the last 1x1 conv:

* ``features.0.0`` / ``features.0.1`` -> ``conv1.conv`` / ``conv1.bn``
  (both);
* a block with an expand conv, ``features.i.conv.<...>``:

  - expand ``conv.0.0`` / ``conv.0.1`` -> mmdet
    ``layerS.B.expand_conv.conv`` / ``.bn``, mmseg ``layerS.B.conv.0.conv``
    / ``.bn``;
  - depthwise ``conv.1.0`` / ``conv.1.1`` -> mmdet
    ``layerS.B.depthwise_conv.conv`` / ``.bn``, mmseg
    ``layerS.B.conv.1.conv`` / ``.bn``;
  - linear ``conv.2`` / ``conv.3`` -> mmdet ``layerS.B.linear_conv.conv`` /
    ``.bn``, mmseg ``layerS.B.conv.2.conv`` / ``.bn``;

* the first block ``features.1`` (expand ratio 1, no expand conv):
  depthwise ``conv.0.0`` / ``conv.0.1`` -> mmdet ``layer1.0.depthwise_conv``,
  mmseg ``layer1.0.conv.0``; linear ``conv.1`` / ``conv.2`` -> mmdet
  ``layer1.0.linear_conv``, mmseg ``layer1.0.conv.1`` (``.conv`` / ``.bn``);
* ``features.18.0`` / ``features.18.1`` -> mmdet ``conv2.conv`` /
  ``conv2.bn``; dropped for mmseg, whose backbone ends at ``layer7``;
* ``classifier.*`` -> dropped (both);

where ``features.i`` (``i`` in 1..17) is block ``B`` of stage ``layerS``
counting blocks stage by stage (``features.1`` -> ``layer1.0``,
``features.2`` -> ``layer2.0``, ``features.3`` -> ``layer2.1``,
``features.4`` -> ``layer3.0``, ..., ``features.17`` -> ``layer7.0``). BN
tensors (``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``) keep their suffix. Values are not touched: the
tensors of the result are those of the input.

This module needs nothing but the standard library and torch.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch

#: The OpenMMLab backbones supported: mmdet's and mmseg's MobileNetV2.
FLAVOURS = ('mmdet', 'mmseg')

#: Number of blocks of each of the seven stages (``layer1`` .. ``layer7``).
STAGE_BLOCKS = (1, 2, 3, 4, 3, 3, 1)

#: Expand ratio of each stage; a block with ratio 1 has no expand conv.
STAGE_EXPAND_RATIOS = (1, 6, 6, 6, 6, 6, 6)

#: torchvision index of the last 1x1 conv (``features.18``).
LAST_CONV_INDEX = sum(STAGE_BLOCKS) + 1

#: Names of a block's ConvModules in mmdet's ``InvertedResidual``, in order.
_MMDET_BLOCK_MODULES = ('expand_conv', 'depthwise_conv', 'linear_conv')

_FEATURE_RE = re.compile(r'^features\.(\d+)\.(.+)$')
_NESTED_RE = re.compile(r'^conv\.(\d+)\.([01])\.(.+)$')
_FLAT_RE = re.compile(r'^conv\.(\d+)\.(.+)$')
_CONV_BN_RE = re.compile(r'^([01])\.(.+)$')


def block_position(feature_index: int) -> Tuple[int, int]:
    """Map torchvision's ``features.<i>`` of a block to its stage and block.

    Args:
        feature_index (int): ``i`` in ``features.<i>``, 1..17.

    Returns:
        Tuple[int, int]: ``(stage, block)``: the block is
        ``layer<stage>.<block>`` (stage 1-based, block 0-based), e.g.
        ``1 -> (1, 0)``, ``3 -> (2, 1)``, ``17 -> (7, 0)``.

    Raises:
        ValueError: If ``feature_index`` is not a block's index.
    """
    index = feature_index - 1
    for stage, num_blocks in enumerate(STAGE_BLOCKS, start=1):
        if 0 <= index < num_blocks:
            return stage, index
        index -= num_blocks
    raise ValueError(f'features.{feature_index} is not an InvertedResidual '
                     f'block (blocks are features.1..features.'
                     f'{LAST_CONV_INDEX - 1})')


def feature_index(stage: int, block: int) -> int:
    """Inverse of :func:`block_position`.

    Args:
        stage (int): 1-based stage, ``layer<stage>``.
        block (int): 0-based block in that stage.

    Returns:
        int: ``i`` such that torchvision's ``features.<i>`` is that block.

    Raises:
        ValueError: If there is no such block.
    """
    if not (1 <= stage <= len(STAGE_BLOCKS)
            and 0 <= block < STAGE_BLOCKS[stage - 1]):
        raise ValueError(f'no block layer{stage}.{block} in MobileNetV2')
    return 1 + sum(STAGE_BLOCKS[:stage - 1]) + block


def _block_modules(stage: int, flavour: str) -> List[str]:
    """Names of a block's ConvModules (relative to the block), in order."""
    has_expand = STAGE_EXPAND_RATIOS[stage - 1] != 1
    if flavour == 'mmdet':
        names = list(_MMDET_BLOCK_MODULES)
        return names if has_expand else names[1:]
    return [f'conv.{j}' for j in range(3 if has_expand else 2)]


def _conv_or_bn(part: str, rest: str, key: str) -> str:
    """``'0'`` (conv) -> ``conv.<rest>``; ``'1'`` (BN) -> ``bn.<rest>``."""
    if part == '0':
        if rest != 'weight':  # ConvModule followed by a norm has no bias
            raise KeyError(f'unexpected conv tensor {key!r}')
        return f'conv.{rest}'
    return f'bn.{rest}'


def map_torchvision_key(key: str, flavour: str) -> Optional[str]:
    """Map one torchvision MobileNetV2 state-dict key to an OpenMMLab one.

    See the module docstring for the full table.

    Args:
        key (str): A key of torchvision's ``MobileNetV2().state_dict()``, e.g.
            ``'features.2.conv.1.1.running_var'``.
        flavour (str): ``'mmdet'`` (``mmdet.models.backbones.MobileNetV2``) or
            ``'mmseg'`` (``mmseg.models.backbones.MobileNetV2``).

    Returns:
        Optional[str]: The backbone's key (e.g.
        ``'layer2.0.depthwise_conv.bn.running_var'`` for mmdet,
        ``'layer2.0.conv.1.bn.running_var'`` for mmseg), or ``None`` for a
        tensor the backbone has no place for: the classifier, and for mmseg the
        last 1x1 conv ``features.18``.

    Raises:
        ValueError: If ``flavour`` is unknown.
        KeyError: If ``key`` is not a torchvision MobileNetV2 key.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f'flavour must be one of {FLAVOURS}, got {flavour!r}')
    if key.startswith('classifier.'):
        return None
    match = _FEATURE_RE.match(key)
    if match is None:
        raise KeyError(f'not a torchvision MobileNetV2 key: {key!r}')
    index, rest = int(match.group(1)), match.group(2)

    if index in (0, LAST_CONV_INDEX):  # Conv2dNormActivation: .0 conv, .1 BN
        part = _CONV_BN_RE.match(rest)
        if part is None:
            raise KeyError(f'not a torchvision MobileNetV2 key: {key!r}')
        if index == LAST_CONV_INDEX and flavour == 'mmseg':
            return None
        module = 'conv1' if index == 0 else 'conv2'
        return f'{module}.{_conv_or_bn(part.group(1), part.group(2), key)}'

    try:
        stage, block = block_position(index)
    except ValueError as err:
        raise KeyError(f'not a torchvision MobileNetV2 key: {key!r}') from err
    modules = _block_modules(stage, flavour)
    # The linear conv is flat: conv.<last> (conv), conv.<last + 1> (BN).
    last = len(modules) - 1
    prefix = f'layer{stage}.{block}'
    nested = _NESTED_RE.match(rest)
    if nested is not None:  # conv.<j>.<0|1>.<tensor>: ConvBNReLU6 number j
        j = int(nested.group(1))
        if j >= last:
            raise KeyError(f'not a torchvision MobileNetV2 key: {key!r}')
        tail = _conv_or_bn(nested.group(2), nested.group(3), key)
        return f'{prefix}.{modules[j]}.{tail}'
    flat = _FLAT_RE.match(rest)
    if flat is not None and int(flat.group(1)) in (last, last + 1):
        part = '0' if int(flat.group(1)) == last else '1'
        tail = _conv_or_bn(part, flat.group(2), key)
        return f'{prefix}.{modules[last]}.{tail}'
    raise KeyError(f'not a torchvision MobileNetV2 key: {key!r}')


def convert_torchvision_mobilenet_v2(
        state_dict: Mapping[str, torch.Tensor],
        flavour: str) -> 'OrderedDict[str, torch.Tensor]':
    """Remap a whole torchvision MobileNetV2 state dict (see the module table).

    Args:
        state_dict (Mapping[str, torch.Tensor]): torchvision's ``MobileNetV2``
            state dict (width 1.0), e.g. the content of
            ``mobilenet_v2-b0353104.pth``.
        flavour (str): ``'mmdet'`` or ``'mmseg'``.

    Returns:
        OrderedDict[str, torch.Tensor]: The state dict of the OpenMMLab
        backbone, in the input's order: 312 tensors for mmdet (everything but
        the classifier), 306 for mmseg (also without ``features.18``). Tensors
        are shared with the input.

    Raises:
        ValueError: If ``flavour`` is unknown or two keys map to one.
        KeyError: If a key is not a torchvision MobileNetV2 key.
    """
    result: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        new_key = map_torchvision_key(key, flavour)
        if new_key is None:
            continue
        if new_key in result:
            raise ValueError(f'{key!r} maps to {new_key!r} a second time')
        result[new_key] = value
    return result


def unmap_to_torchvision(state_dict: Mapping[str, torch.Tensor],
                         flavour: str) -> Dict[str, torch.Tensor]:
    """Inverse of :func:`convert_torchvision_mobilenet_v2` (for tests).

    Args:
        state_dict (Mapping[str, torch.Tensor]): An mmdet or mmseg
            ``MobileNetV2`` state dict (width 1.0).
        flavour (str): ``'mmdet'`` or ``'mmseg'``.

    Returns:
        Dict[str, torch.Tensor]: The same tensors under torchvision's keys
        (without the classifier, and for mmseg without ``features.18``).

    Raises:
        KeyError: If a key has no torchvision counterpart.
    """
    inverse: Dict[str, str] = {}
    for index in range(LAST_CONV_INDEX + 1):
        for tv_key in _torchvision_keys_of(index):
            mm_key = map_torchvision_key(tv_key, flavour)
            if mm_key is not None:
                inverse[mm_key] = tv_key
    return {inverse[key]: value for key, value in state_dict.items()}


def _torchvision_keys_of(index: int) -> List[str]:
    """All torchvision state-dict keys of ``features.<index>``."""
    bn = ('weight', 'bias', 'running_mean', 'running_var',
          'num_batches_tracked')

    def conv_bn(conv: str, norm: str) -> List[str]:
        return [f'{conv}.weight'] + [f'{norm}.{t}' for t in bn]

    if index in (0, LAST_CONV_INDEX):
        return conv_bn(f'features.{index}.0', f'features.{index}.1')
    stage, _ = block_position(index)
    num = 3 if STAGE_EXPAND_RATIOS[stage - 1] != 1 else 2
    prefix = f'features.{index}.conv'
    keys: List[str] = []
    for j in range(num - 1):
        keys += conv_bn(f'{prefix}.{j}.0', f'{prefix}.{j}.1')
    return keys + conv_bn(f'{prefix}.{num - 1}', f'{prefix}.{num}')
