# Copyright (c) cankd contributors. All rights reserved.
"""The CanKD loss with torch alone (no mmcv, mmengine or MMRazor).

``cankd.models.CanLoss`` is this module registered in MMRazor's registry,
with the norm of ``W_z`` given as an OpenMMLab ``norm_cfg``.
"""
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .feature_pairs import (at_least_fp32, check_feature_pair,
                            check_finite_teacher, check_positive_int)
from .functional import AFFINITIES, cross_attention, key_value_average

# The dot-product path folds θ, the attention and W_z's convolution into one
# C x C matrix per sample. Building it costs C·C'·(C + C') multiply-adds
# whatever the map size; below this many pixels per query channel (C') that
# costs more than the per-pixel products it saves, and they run in turn.
FOLD_MIN_PIXELS_PER_CHANNEL = 8


class CanKDLoss(nn.Module):
    r"""Cross-attention-based non-local distillation loss (CanKD, WACV 2026),
    with torch alone: usable in any PyTorch training loop.

    Every student pixel attends to the whole (max-pooled) teacher feature map;
    the attended teacher information refines the student feature before it is
    compared with the teacher feature:

    .. math::

        Q = \theta(S),\quad K = \mathrm{pool}(\phi(T)),\quad
        V = \mathrm{pool}(g(T)),\quad N' = \lfloor H/p \rfloor
        \lfloor W/p \rfloor

        Y = \frac{1}{N'} Q^\top K V^\top,\qquad S^* = W_z(Y) + S

        \mathcal{L} = \frac{\lambda}{2}\,
        \mathrm{MSE}\big(\mathrm{IN}(S^*), \mathrm{IN}(T)\big)

    ``θ``, ``φ`` and ``g`` are 1×1 convolutions to ``inter_channels``; ``W_z``
    is a 1×1 convolution back to ``in_channels`` followed by a norm layer
    whose weight and bias start at zero, so that ``S* = S`` at the first step.
    ``IN`` is instance normalisation without affine parameters. The halving
    follows the official code: ``loss_weight=10`` is the paper's ``μ = 5``.

    The dot-product affinity has no softmax, so the ``HW × N'`` affinity
    matrix is never formed (see :meth:`_dot_product_w_z`); the softmax
    affinities go through
    :func:`torch.nn.functional.scaled_dot_product_attention`. Both equal the
    formula up to float rounding. Under autocast, only the teacher
    projections run in low precision; the attention, the student side, the
    residual and the loss run in fp32.

    Args:
        in_channels (int): Channels ``C`` of the student and teacher
            features.
        inter_channels (int, optional): Channels ``C'`` of queries, keys and
            values. Defaults to ``max(in_channels // 2, 1)``.
        affinity (str): ``'dot_product'`` (the paper's CanKD),
            ``'gaussian'`` (softmax over raw ``Sᵀ pool(T)``, no ``θ``/``φ``)
            or ``'embedded_gaussian'`` (softmax over ``Qᵀ K``, no ``1/N'``).
            Defaults to ``'dot_product'``.
        pool_size (int): Kernel and stride of the max pooling of keys and
            values. Defaults to 2.
        residual (bool): Add the student feature to ``W_z(Y)``. Defaults to
            True.
        instance_norm (bool): Compare instance-normalised features; plain MSE
            on raw features otherwise. Defaults to True.
        loss_weight (float): Weight ``λ`` of the loss. Defaults to 1.0.
        norm_layer (Callable[[int], nn.Module]): Builds the norm of ``W_z``
            from a channel count, e.g. ``nn.SyncBatchNorm``. Defaults to
            ``nn.BatchNorm2d``.

    Shape:
        - s_feature: ``(B, C, H, W)``, the student feature.
        - t_feature: ``(B, C, H, W)``, the teacher feature.
        - Output: scalar.
    """

    def __init__(self,
                 in_channels: int,
                 inter_channels: Optional[int] = None,
                 affinity: str = 'dot_product',
                 pool_size: int = 2,
                 residual: bool = True,
                 instance_norm: bool = True,
                 loss_weight: float = 1.0,
                 norm_layer: Callable[[int], nn.Module] = nn.BatchNorm2d
                 ) -> None:
        super().__init__()
        check_positive_int(type(self).__name__, 'in_channels', in_channels)
        if inter_channels is None:
            inter_channels = max(in_channels // 2, 1)
        check_positive_int(type(self).__name__, 'inter_channels',
                            inter_channels)
        check_positive_int(type(self).__name__, 'pool_size', pool_size)
        if affinity not in AFFINITIES:
            raise ValueError(f'{type(self).__name__} got affinity='
                             f'{affinity!r}; expected one of {AFFINITIES}.')
        self.in_channels = in_channels
        self.inter_channels = inter_channels
        self.affinity = affinity
        self.pool_size = pool_size
        self.residual = residual
        self.instance_norm = instance_norm
        self.loss_weight = loss_weight
        # The attention path, chosen once: the dot product reassociates
        # (and folds), the softmax affinities cannot.
        self.reassociates = affinity == 'dot_product'

        # The gaussian affinity compares raw features, so it has no θ/φ.
        embeds = affinity != 'gaussian'
        self.theta = self._projection() if embeds else None
        self.phi = self._projection() if embeds else None
        self.g = self._projection()
        self.w_z = nn.Sequential(
            nn.Conv2d(inter_channels, in_channels, kernel_size=1),
            norm_layer(in_channels))
        self.init_weights()

    def _projection(self) -> nn.Conv2d:
        return nn.Conv2d(self.in_channels, self.inter_channels, kernel_size=1)

    def init_weights(self) -> None:
        """Zero the norm of ``W_z`` so that the block starts as identity.

        mmengine calls this again after building a model; the convolutions
        keep PyTorch's default initialisation, as in the paper.
        """
        nn.init.zeros_(self.w_z[1].weight)
        nn.init.zeros_(self.w_z[1].bias)

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the CanKD loss of one feature level.

        Args:
            s_feature (Tensor): Student feature, shape ``(B, C, H, W)``.
            t_feature (Tensor): Teacher feature, shape ``(B, C, H, W)``.

        Returns:
            Tensor: The weighted loss, a scalar, at least fp32.
        """
        self._check_features(s_feature, t_feature)
        refined = self.refine(s_feature, t_feature)
        with torch.autocast(s_feature.device.type, enabled=False):
            target = at_least_fp32(t_feature)
            if self.instance_norm:
                refined = F.instance_norm(refined, eps=1e-5)
                target = F.instance_norm(target, eps=1e-5)
            loss = self.loss_weight * F.mse_loss(refined, target) / 2
        check_finite_teacher(self._name, loss, t_feature)
        return loss

    def refine(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Refine the student feature with attended teacher information.

        Args:
            s_feature (Tensor): Student feature, shape ``(B, C, H, W)``.
            t_feature (Tensor): Teacher feature, shape ``(B, C, H, W)``.

        Returns:
            Tensor: ``S* = W_z(Y) (+ S)``, shape ``(B, C, H, W)``, at least
            fp32.
        """
        key, value = self._pooled_keys_and_values(t_feature)
        if not self.reassociates:
            query = self.theta(s_feature) if self.theta else s_feature
        # fp16 sums over thousands of pixels overflow and lose precision.
        with torch.autocast(s_feature.device.type, enabled=False):
            key, value = at_least_fp32(key), at_least_fp32(value)
            if self.reassociates:
                refined = self._dot_product_w_z(s_feature, key, value)
            else:
                refined = self.w_z(
                    self._softmax_attention(query, key, value))
            if self.residual:
                refined = refined + at_least_fp32(s_feature)
        return refined

    def _pooled_keys_and_values(self,
                                t_feature: Tensor) -> Tuple[Tensor, Tensor]:
        """``pool(φ(T))`` and ``pool(g(T))``, each ``(B, C*, H/p, W/p)``."""
        if self.phi is None:
            key = F.max_pool2d(t_feature, self.pool_size)
            return key, F.max_pool2d(self.g(t_feature), self.pool_size)
        # φ and g as one convolution: the teacher map is read once and the
        # pooling runs once.
        weight = torch.cat([self.phi.weight, self.g.weight])
        bias = torch.cat([self.phi.bias, self.g.bias])
        keys_values = F.max_pool2d(
            F.conv2d(t_feature, weight, bias), self.pool_size)
        return keys_values.split(self.inter_channels, dim=1)

    def _dot_product_w_z(self, s_feature: Tensor, key: Tensor,
                         value: Tensor) -> Tensor:
        """``W_z(Y)`` of the dot-product affinity, shape ``(B, C, H, W)``.

        Without a softmax the product reassociates: ``Y = (K Vᵀ / N')ᵀ
        θ(S)``, a ``C' × C'`` matrix per sample instead of the ``HW × N'``
        affinity. ``θ``, that attention and ``W_z``'s convolution are then
        all linear in ``S``, so they fold into one ``C × C`` matrix per
        sample: one matmul over the pixels replaces three and the ``Q`` and
        ``Y`` maps are never stored. On maps of fewer than
        :data:`FOLD_MIN_PIXELS_PER_CHANNEL` ``· C'`` pixels the three run in
        turn. Both orders equal the written one up to float rounding.
        """
        batch, channels, height, width = s_feature.shape
        student = at_least_fp32(s_feature)
        conv_z, norm_z = self.w_z
        # (B, C', C'): maps a query to its attended value.
        attend = key_value_average(key.flatten(2),
                                   value.flatten(2)).transpose(1, 2)
        if height * width < FOLD_MIN_PIXELS_PER_CHANNEL * self.inter_channels:
            attended = torch.bmm(attend, self.theta(student).flatten(2))
            return self.w_z(
                attended.view(batch, self.inter_channels, height, width))
        mixed = conv_z.weight.flatten(1) @ attend  # (B, C, C')
        matrix = mixed @ self.theta.weight.flatten(1)  # (B, C, C)
        bias = mixed @ self.theta.bias + conv_z.bias  # (B, C)
        out = torch.baddbmm(bias.unsqueeze(-1), matrix, student.flatten(2))
        return norm_z(out.view(batch, channels, height, width))

    def _softmax_attention(self, query: Tensor, key: Tensor,
                           value: Tensor) -> Tensor:
        """Softmax-attended ``Y``, shape ``(B, C', H, W)``."""
        batch, _, height, width = query.shape
        attended = cross_attention(
            _to_sequence(query), _to_sequence(key), _to_sequence(value),
            self.affinity)
        # Contiguous NCHW: W_z's norm is several times slower on the
        # channels-last strides the transpose leaves.
        return attended.transpose(1, 2).reshape(
            batch, self.inter_channels, height, width).contiguous()

    def _check_features(self, s_feature: Tensor, t_feature: Tensor) -> None:
        check_feature_pair(self._name, self.in_channels, s_feature, t_feature)
        if min(s_feature.shape[2:]) < self.pool_size:
            raise ValueError(
                f'{self._name} got features of spatial size '
                f'{tuple(s_feature.shape[2:])}, smaller '
                f'than its pooling window pool_size={self.pool_size}. Use a '
                'smaller pool_size or distil a higher-resolution level.')

    @property
    def _name(self) -> str:
        """The class name users wrote (``CanLoss`` in a config)."""
        return type(self).__name__

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, '
                f'inter_channels={self.inter_channels}, '
                f'affinity={self.affinity!r}, pool_size={self.pool_size}, '
                f'residual={self.residual}, '
                f'instance_norm={self.instance_norm}, '
                f'loss_weight={self.loss_weight}')


def _to_sequence(feature: Tensor) -> Tensor:
    """``(B, C, H, W)`` -> ``(B, H*W, C)``, at least fp32."""
    return at_least_fp32(feature).flatten(2).transpose(1, 2)

