# Copyright (c) cankd contributors. All rights reserved.
from mmrazor.registry import MODELS

from ...nn import ACAMKDLoss


@MODELS.register_module()
class ACAMLoss(ACAMKDLoss):
    """:class:`cankd.nn.ACAMKDLoss` in MMRazor's registry, for configs:
    ``dict(type='ACAMLoss', in_channels=256)``. ACAM-KD (ICCV 2025),
    unofficial re-implementation from the paper's equations; the choices
    made where the paper is silent are listed in
    :class:`cankd.nn.ACAMKDLoss` and ``docs/acam_kd.md``.

    Its parameters (STCA-FF's convolutions, the selection units) belong to
    the distiller's ``distill_losses``, hence to the algorithm: the
    runner's optimiser trains them with the student.

    Args:
        in_channels (int): Channels ``C`` of the student and teacher
            features.
        num_masks (int): Masks ``M`` of each type. Defaults to 6.
        query_channels (int, optional): Channels ``C_q`` of queries and
            keys. Defaults to ``max(in_channels // 2, 1)``.
        alpha (float): Weight ``α`` of the masked losses. Defaults to 1.0.
        diversity_weight (float): Weight ``λ`` of the Dice diversity loss.
            Defaults to 1.0.

    Shape:
        - s_feature: ``(B, C, H, W)``, the student feature.
        - t_feature: ``(B, C, H, W)``, the teacher feature.
        - Output: scalar.
    """
