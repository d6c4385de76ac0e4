# Copyright (c) cankd contributors. All rights reserved.
"""CanKD with torch alone: the loss module and its attention kernels, for
any PyTorch training loop (``from cankd.nn import CanKDLoss``); and
ACAM-KD, an unofficial re-implementation of a comparator
(``ACAMKDLoss``)."""
from .acam_kd_loss import ACAMKDLoss
from .can_kd_loss import CanKDLoss
from .functional import (AFFINITIES, cross_attention, dot_product_attention,
                         key_value_average, softmax_attention)

__all__ = [
    'ACAMKDLoss', 'CanKDLoss', 'AFFINITIES', 'cross_attention',
    'dot_product_attention', 'key_value_average', 'softmax_attention'
]
