# Copyright (c) cankd contributors. All rights reserved.
"""The dense (as written) CanKD formulation, kept only as a baseline for
``benchmark_loss.py`` and ``complexity.py``. Not part of the library.

It materialises the ``HW × N'`` affinity matrix ``A = Qᵀ K / N'`` of the
formula (README.md) and computes ``Y = A Vᵀ``; :class:`cankd.models.CanLoss`
computes the same ``Y`` as ``Qᵀ (K Vᵀ) / N'`` without ever forming ``A``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class DenseCanLoss(nn.Module):
    """CanKD loss with the affinity matrix materialised (dot product only).

    Shares every parameter (θ, φ, g, W_z and its norm) with the given
    :class:`CanLoss`, so that both compute the same function and a gradient
    step on one is a step on the other.

    Args:
        can_loss (CanLoss): A ``dot_product`` CanLoss whose parameters are
            used.
    """

    def __init__(self, can_loss: nn.Module) -> None:
        super().__init__()
        if can_loss.affinity != 'dot_product':
            raise ValueError('DenseCanLoss reproduces the dot-product '
                             f'affinity only, got {can_loss.affinity!r}.')
        self.can_loss = can_loss

    @staticmethod
    def affinity_bytes(shape, pool_size: int = 2,
                       element_size: int = 4) -> int:
        """Bytes of one materialised affinity matrix for a ``(B, C, H, W)``
        input: ``B · HW · N' · element_size``."""
        batch, _, height, width = shape
        num_keys = (height // pool_size) * (width // pool_size)
        return batch * height * width * num_keys * element_size

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        can = self.can_loss
        batch, _, height, width = s_feature.shape
        query = can.theta(s_feature).flatten(2).transpose(1, 2)  # B, HW, C'
        key = F.max_pool2d(can.phi(t_feature), can.pool_size).flatten(2)
        value = F.max_pool2d(can.g(t_feature), can.pool_size).flatten(2)
        num_keys = key.shape[2]  # N'
        # A = Qᵀ K / N': (B, HW, N'), the matrix the fast path never forms.
        affinity = torch.bmm(query, key).div_(num_keys)
        attended = torch.bmm(affinity, value.transpose(1, 2))  # B, HW, C'
        # Contiguous, as non-local blocks (mmcv's NonLocal2d) write it.
        attended = attended.transpose(1, 2).contiguous().reshape(
            batch, can.inter_channels, height, width)
        refined = can.w_z(attended)
        if can.residual:
            refined = refined + s_feature
        target = t_feature
        if can.instance_norm:
            refined = F.instance_norm(refined, eps=1e-5)
            target = F.instance_norm(target, eps=1e-5)
        return can.loss_weight * F.mse_loss(refined, target) / 2
