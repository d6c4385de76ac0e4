# Copyright (c) cankd contributors. All rights reserved.
from typing import Optional

from mmcv.cnn import build_norm_layer
from mmrazor.registry import MODELS

from ...nn import CanKDLoss


@MODELS.register_module()
class CanLoss(CanKDLoss):
    """:class:`cankd.nn.CanKDLoss` in MMRazor's registry, for configs:
    ``dict(type='CanLoss', in_channels=256, loss_weight=10)``.

    Args:
        in_channels (int): Channels ``C`` of the student and teacher
            features.
        inter_channels (int, optional): Channels ``C'`` of queries, keys and
            values. Defaults to ``max(in_channels // 2, 1)``.
        affinity (str): ``'dot_product'``, ``'gaussian'`` or
            ``'embedded_gaussian'``. Defaults to ``'dot_product'``.
        pool_size (int): Max-pooling window of keys and values. Defaults
            to 2.
        residual (bool): Add the student feature to ``W_z(Y)``. Defaults to
            True.
        instance_norm (bool): Compare instance-normalised features.
            Defaults to True.
        loss_weight (float): Weight ``λ``; the loss is ``λ/2 · MSE``.
            Defaults to 1.0.
        norm_cfg (dict): Norm layer of ``W_z``, e.g. ``dict(type='SyncBN')``.
            Defaults to ``dict(type='BN')``.

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
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__(
            in_channels, inter_channels, affinity, pool_size, residual,
            instance_norm, loss_weight,
            norm_layer=lambda channels: build_norm_layer(norm_cfg,
                                                         channels)[1])
