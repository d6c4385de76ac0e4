# Copyright (c) cankd contributors. All rights reserved.
"""MobileNetV1 (Howard et al., 2017) for mmpretrain, which has none.

The paper's ResNet-50 -> MobileNetV1 ImageNet pair (supplementary §9) comes
from the MGD lineage of classification KD code, whose student is the plain
MobileNetV1: a 3x3 conv-BN-ReLU stem of 32 channels at stride 2, then 13
depthwise-separable blocks (3x3 depthwise conv-BN-ReLU, 1x1 pointwise
conv-BN-ReLU), 1024 channels at stride 32. With mmpretrain's
``GlobalAveragePooling`` neck and a 1000-way ``LinearClsHead`` it has
4.23 M parameters (3.21 M in the backbone).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, Sequential
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

#: ``(out_channels, stride)`` of the 13 depthwise-separable blocks, at
#: ``widen_factor=1``; the stem before them has 32 channels, stride 2.
ARCH_SETTINGS: Tuple[Tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
STEM_CHANNELS = 32


class DepthwiseSeparableConv(Sequential):
    """3x3 depthwise conv-norm-act, then 1x1 pointwise conv-norm-act.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output.
        stride (int): Stride of the depthwise convolution.
        norm_cfg (dict): Normalisation layer config.
        act_cfg (dict): Activation layer config.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 norm_cfg: Dict, act_cfg: Dict) -> None:
        super().__init__(
            ConvModule(in_channels, in_channels, 3, stride=stride, padding=1,
                       groups=in_channels, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))


class MobileNetV1(BaseModule):
    """MobileNetV1 backbone.

    Its modules are ``conv1`` (the stem) and ``layer1`` ... ``layer13``
    (the depthwise-separable blocks), so that a distiller records the last
    block as ``backbone.layer13`` (1024 channels at stride 32, or
    ``1024 * widen_factor``).

    Args:
        widen_factor (float): Channel multiplier of every layer (the paper's
            alpha). Defaults to 1.0.
        out_indices (Sequence[int]): Blocks whose outputs ``forward``
            returns, 0 for ``conv1`` and k for ``layer{k}``. Defaults to
            ``(13,)``, the last block, as mmpretrain classifiers expect.
        frozen_stages (int): ``k >= 0`` freezes ``conv1`` and ``layer1``
            ... ``layer{k}`` (eval mode, no gradient); -1 freezes nothing.
            Defaults to -1.
        norm_cfg (dict): Normalisation layers. Defaults to BN.
        act_cfg (dict): Activations. Defaults to ReLU.
        norm_eval (bool): Keep the BatchNorm layers in eval mode while
            training (frozen statistics). Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation. Defaults to
            Kaiming-normal convolutions and constant-1 norms.

    Shapes:
        - Input: ``(N, 3, H, W)``.
        - Output: a tuple with one ``(N, C_k, H / s_k, W / s_k)`` tensor per
          ``out_indices`` entry; ``(N, 1024, H / 32, W / 32)`` by default.
    """

    def __init__(self,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (13, ),
                 frozen_stages: int = -1,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, Sequence[Dict]]] = (
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm']))) -> None:
        super().__init__(
            init_cfg=list(init_cfg) if isinstance(init_cfg, tuple) else
            init_cfg)
        num_blocks = len(ARCH_SETTINGS)
        if widen_factor <= 0:
            raise ValueError(
                f'widen_factor must be positive, got {widen_factor}')
        for index in out_indices:
            if not 0 <= index <= num_blocks:
                raise ValueError(
                    f'out_indices entries must be in 0..{num_blocks} (0: '
                    f'conv1, k: layer{{k}}), got {tuple(out_indices)}')
        if not -1 <= frozen_stages <= num_blocks:
            raise ValueError(f'frozen_stages must be in -1..{num_blocks}, '
                             f'got {frozen_stages}')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        channels = max(8, int(STEM_CHANNELS * widen_factor))
        self.conv1 = ConvModule(3, channels, 3, stride=2, padding=1,
                                norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.layer_names = ['conv1']
        for index, (out_channels, stride) in enumerate(ARCH_SETTINGS, 1):
            out_channels = max(8, int(out_channels * widen_factor))
            self.add_module(
                f'layer{index}',
                DepthwiseSeparableConv(channels, out_channels, stride,
                                       norm_cfg, act_cfg))
            self.layer_names.append(f'layer{index}')
            channels = out_channels
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        for index, name in enumerate(self.layer_names):
            x = getattr(self, name)(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for name in self.layer_names[:self.frozen_stages + 1]:
            layer = getattr(self, name)
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'MobileNetV1':
        """Training mode that keeps frozen stages, and with ``norm_eval``
        every BatchNorm, in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
