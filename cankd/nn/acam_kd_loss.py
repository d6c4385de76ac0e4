# Copyright (c) cankd contributors. All rights reserved.
"""The ACAM-KD loss with torch alone: an unofficial re-implementation, the
comparator of cankd's reproduction. ``cankd.models.ACAMLoss`` is this module
in MMRazor's registry."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from .acam_functional import (channel_masks, cross_attention_fusion,
                              dice_diversity, masked_channel_loss,
                              masked_spatial_loss, spatial_masks)
from .feature_pairs import (at_least_fp32, check_feature_pair,
                            check_finite_teacher, check_positive_int)

# MasKD's initialisation of its mask tokens: every mask starts near 0.5.
MASK_INIT_STD = 0.01


class ACAMKDLoss(nn.Module):
    r"""ACAM-KD (Lan and Tian, ICCV 2025), unofficial re-implementation
    from the paper's equations: no official code has been published.

    Per distilled level, the teacher queries the student (STCA-FF), the
    fused feature generates ``M`` spatial and ``M`` channel masks (ASCM),
    and the masks weight the teacher-student difference ``D = F_T - F_S``:

    .. math::

        F_{fused} = W_v F_S\,\mathrm{softmax}\Big(
            \frac{(W_q F_T)^\top W_k F_S}{\sqrt{C_q}}\Big)^\top

        M^s = \sigma(m_s F_{fused}),\qquad
        M^c_m = \sigma(m_{c,m}\,\bar{F}_{fused})

        L^c = \frac{1}{M}\sum_m \frac{\lVert M^c_m \odot D\rVert^2}
            {HW \sum_k M^c_{m,k}},\qquad
        L^s = \frac{1}{M}\sum_m \frac{\lVert M^s_m \odot D\rVert^2}
            {C \sum_p M^s_{m,p}}

        \mathcal{L} = \alpha (L^c + L^s) + \lambda\,
            (\mathrm{Dice}(M^s) + \mathrm{Dice}(M^c))

    Where the paper is silent, this module chooses (the reasons are in
    ``docs/acam_kd.md``):

    - ``W_q``, ``W_k`` (to ``C_q`` channels) and ``W_v`` (to ``C``) are 1×1
      convolutions, with bias except ``W_k`` (the softmax ignores a key
      bias); ``C_q = C/2``; one head, no residual, no norm.
    - The student enters STCA-FF detached, as MasKD computes its
      student-customised masks without gradient: the student learns from
      ``D`` alone, not by moving the masks. The teacher is detached
      everywhere.
    - The mask generators (``W_q``, ``W_k``, ``W_v``, ``m_s``, ``m_c``) are
      trained by this same loss, jointly with the student, from the first
      iteration: no separate mask-learning stage and no warm-up.
    - The channel selection unit ``m_c,m`` is a ``C × C`` linear map per
      mask, without bias (the summaries write ``m_c ∈ R^{M×1}``); ``m_s``
      and ``m_c`` start from N(0, 0.01²), as MasKD's tokens.
    - ``‖M ⊙ D‖²`` squares the masked difference (the mask enters squared,
      as in MasKD, which masks both features), normalised by ``Σ M``; each
      sample's loss, then the batch mean.
    - The Dice diversity applies to both mask types of each level, summed.
    - A student of other channels is mapped by a connector (``f_align``),
      before STCA-FF sees it.
    - Everything runs in at least fp32, under autocast too.

    Args:
        in_channels (int): Channels ``C`` of the student and teacher
            features.
        num_masks (int): Masks ``M`` of each type. Defaults to 6 (the
            paper's value for detection).
        query_channels (int, optional): Channels ``C_q`` of queries and
            keys. Defaults to ``max(in_channels // 2, 1)``.
        alpha (float): Weight ``α`` of the masked losses. Defaults to 1.0.
        diversity_weight (float): Weight ``λ`` of the diversity loss.
            Defaults to 1.0.

    Shape:
        - s_feature: ``(B, C, H, W)``, the student feature.
        - t_feature: ``(B, C, H, W)``, the teacher feature.
        - Output: scalar.
    """

    def __init__(self,
                 in_channels: int,
                 num_masks: int = 6,
                 query_channels: Optional[int] = None,
                 alpha: float = 1.0,
                 diversity_weight: float = 1.0) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive_int(name, 'in_channels', in_channels)
        check_positive_int(name, 'num_masks', num_masks)
        if query_channels is None:
            query_channels = max(in_channels // 2, 1)
        check_positive_int(name, 'query_channels', query_channels)
        for arg, value in (('alpha', alpha),
                           ('diversity_weight', diversity_weight)):
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not value >= 0):
                raise ValueError(
                    f'{name} expects {arg} to be a number >= 0, got '
                    f'{value!r}.')
        self.in_channels = in_channels
        self.num_masks = num_masks
        self.query_channels = query_channels
        self.alpha = alpha
        self.diversity_weight = diversity_weight

        self.query = nn.Conv2d(in_channels, query_channels, kernel_size=1)
        # A bias of W_k adds one number to all the logits of a query: the
        # softmax ignores it (its gradient is zero), so W_k has none.
        self.key = nn.Conv2d(in_channels, query_channels, kernel_size=1,
                             bias=False)
        self.value = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.spatial_tokens = nn.Parameter(torch.empty(num_masks,
                                                       in_channels))
        self.channel_units = nn.Parameter(
            torch.empty(num_masks, in_channels, in_channels))
        self.init_weights()

    def init_weights(self) -> None:
        """Draw the selection units from N(0, 0.01²); mmengine calls this
        again after building a model. The convolutions keep PyTorch's
        default initialisation."""
        nn.init.normal_(self.spatial_tokens, std=MASK_INIT_STD)
        nn.init.normal_(self.channel_units, std=MASK_INIT_STD)

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the ACAM-KD loss of one feature level.

        Args:
            s_feature (Tensor): Student feature, shape ``(B, C, H, W)``.
            t_feature (Tensor): Teacher feature, shape ``(B, C, H, W)``.

        Returns:
            Tensor: ``α (L^c + L^s) + λ L_div``, a scalar, at least fp32.
        """
        check_feature_pair(self._name, self.in_channels, s_feature,
                           t_feature)
        with torch.autocast(s_feature.device.type, enabled=False):
            student = at_least_fp32(s_feature)
            teacher = at_least_fp32(t_feature).detach()
            spatial, channel = self._flat_masks(student, teacher)
            difference = (teacher - student).flatten(2)
            loss = self.alpha * (
                masked_channel_loss(difference, channel) +
                masked_spatial_loss(difference, spatial))
            if self.diversity_weight:
                loss = loss + self.diversity_weight * (
                    dice_diversity(spatial) + dice_diversity(channel))
        check_finite_teacher(self._name, loss, t_feature)
        return loss

    def masks(self, s_feature: Tensor,
              t_feature: Tensor) -> Tuple[Tensor, Tensor]:
        """The masks the loss applies to this pair of features.

        Args:
            s_feature (Tensor): Student feature, shape ``(B, C, H, W)``.
            t_feature (Tensor): Teacher feature, shape ``(B, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: Spatial masks ``(B, M, H, W)`` and
            channel masks ``(B, M, C)``, values in ``(0, 1)``.
        """
        check_feature_pair(self._name, self.in_channels, s_feature,
                           t_feature)
        with torch.autocast(s_feature.device.type, enabled=False):
            spatial, channel = self._flat_masks(
                at_least_fp32(s_feature), at_least_fp32(t_feature).detach())
        return spatial.view(*spatial.shape[:2], *s_feature.shape[2:]), channel

    def _flat_masks(self, student: Tensor,
                    teacher: Tensor) -> Tuple[Tensor, Tensor]:
        """Spatial ``(B, M, H*W)`` and channel ``(B, M, C)`` masks."""
        student = student.detach()
        fused = cross_attention_fusion(
            self.query(teacher), self.key(student), self.value(student))
        return (spatial_masks(fused, self.spatial_tokens),
                channel_masks(fused, self.channel_units))

    @property
    def _name(self) -> str:
        """The class name users wrote (``ACAMLoss`` in a config)."""
        return type(self).__name__

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, '
                f'num_masks={self.num_masks}, '
                f'query_channels={self.query_channels}, '
                f'alpha={self.alpha}, '
                f'diversity_weight={self.diversity_weight}')
