# Copyright (c) cankd contributors. All rights reserved.
"""ACAM-KD's equations (Lan and Tian, ICCV 2025) as pure functions on
tensors: the student-teacher cross-attention fusion (STCA-FF), the spatial
and channel masks of the adaptive masking (ASCM), the masked distillation
losses and the Dice diversity of the masks.

No official code exists; ``docs/acam_kd.md`` lists what the paper leaves
open and what these functions choose. Shapes: ``B`` batch, ``C`` channels,
``N = H*W`` pixels, ``M`` masks.
"""
import math

import torch
from torch import Tensor

from .functional import softmax_attention


def cross_attention_fusion(query: Tensor, key: Tensor,
                           value: Tensor) -> Tensor:
    """STCA-FF: ``F_fused = V softmax(Qᵀ K / √C_q)ᵀ``, one head.

    The queries come from the teacher, keys and values from the student;
    each teacher position attends to all student positions. The ``N × N``
    affinity is not stored: the softmax goes through PyTorch's fused
    attention kernel.

    Args:
        query (Tensor): ``W_q F_T``, shape ``(B, C_q, H, W)``.
        key (Tensor): ``W_k F_S``, shape ``(B, C_q, H, W)``.
        value (Tensor): ``W_v F_S``, shape ``(B, C, H, W)``.

    Returns:
        Tensor: ``F_fused``, shape ``(B, C, N)``.
    """
    scale = 1.0 / math.sqrt(query.shape[1])
    attended = softmax_attention(
        query.flatten(2).transpose(1, 2) * scale,
        key.flatten(2).transpose(1, 2),
        value.flatten(2).transpose(1, 2))  # (B, N, C)
    return attended.transpose(1, 2)


def spatial_masks(fused: Tensor, tokens: Tensor) -> Tensor:
    """``M^s = σ(m_s · z)``: one mask over the pixels per token.

    Args:
        fused (Tensor): ``z = F_fused``, shape ``(B, C, N)``.
        tokens (Tensor): ``m_s``, shape ``(M, C)``.

    Returns:
        Tensor: Masks in ``(0, 1)``, shape ``(B, M, N)``.
    """
    return torch.matmul(tokens, fused).sigmoid()


def channel_masks(fused: Tensor, units: Tensor) -> Tensor:
    """``M^c_m = σ(m_c,m · v)``: one mask over the channels per selection
    unit, from the spatial average ``v`` of the fused feature.

    Args:
        fused (Tensor): ``F_fused``, shape ``(B, C, N)``.
        units (Tensor): ``m_c``, one ``C × C`` linear map per mask, shape
            ``(M, C, C)``.

    Returns:
        Tensor: Masks in ``(0, 1)``, shape ``(B, M, C)``.
    """
    return torch.einsum('mkc,bc->bmk', units, fused.mean(dim=2)).sigmoid()


def masked_channel_loss(difference: Tensor, masks: Tensor) -> Tensor:
    """``L^c = 1/M Σ_m ‖M^c_m ⊙ D‖² / (N Σ_k M^c_m,k)``, batch mean.

    Args:
        difference (Tensor): ``D = F_T - F_S``, shape ``(B, C, N)``.
        masks (Tensor): Channel masks, shape ``(B, M, C)``.

    Returns:
        Tensor: Scalar.
    """
    return _masked_mean(difference.square().sum(dim=2), masks,
                        difference.shape[2])


def masked_spatial_loss(difference: Tensor, masks: Tensor) -> Tensor:
    """``L^s = 1/M Σ_m ‖M^s_m ⊙ D‖² / (C Σ_p M^s_m,p)``, batch mean.

    Args:
        difference (Tensor): ``D = F_T - F_S``, shape ``(B, C, N)``.
        masks (Tensor): Spatial masks, shape ``(B, M, N)``.

    Returns:
        Tensor: Scalar.
    """
    return _masked_mean(difference.square().sum(dim=1), masks,
                        difference.shape[1])


def _masked_mean(energy: Tensor, masks: Tensor, other_size: int) -> Tensor:
    """``mean_{b,m} Σ_i M²_{b,m,i} E_{b,i} / (other_size Σ_i M_{b,m,i})``.

    A mask weights one axis of ``D`` (channels or pixels); ``energy`` is
    ``D²`` summed over the other axis, of ``other_size`` entries. The
    ``B × M × C × N`` masked difference is never formed.
    """
    masked = torch.bmm(masks.square(), energy.unsqueeze(2)).squeeze(2)
    return (masked / (other_size * masks.sum(dim=2))).mean()


def dice_diversity(masks: Tensor, eps: float = 1e-12) -> Tensor:
    """Mean Dice coefficient of every pair of different masks of a sample.

    ``2⟨M_i, M_j⟩ / (‖M_i‖² + ‖M_j‖²)`` over the pairs ``i ≠ j``, then over
    the batch (MasKD's ``dice_coeff``): 1 for identical masks, 0 for masks
    of disjoint support; minimising it makes the masks differ. A single
    mask has no pair: 0.

    Args:
        masks (Tensor): Shape ``(B, M, L)``, any ``L`` (pixels or channels).
        eps (float): Added to each squared norm. Defaults to 1e-12.

    Returns:
        Tensor: Scalar.
    """
    num_masks = masks.shape[1]
    if num_masks < 2:
        return masks.new_zeros(())
    gram = torch.bmm(masks, masks.transpose(1, 2))  # (B, M, M)
    norms = torch.diagonal(gram, dim1=1, dim2=2) + eps  # (B, M)
    dice = 2 * gram / (norms.unsqueeze(2) + norms.unsqueeze(1))
    off_diagonal = ~torch.eye(num_masks, dtype=torch.bool,
                              device=masks.device)
    return dice[:, off_diagonal].mean()
