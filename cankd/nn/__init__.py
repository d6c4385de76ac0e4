# Copyright (c) cankd contributors. All rights reserved.
"""CanKD with torch alone: the loss module and its attention kernels, for
any PyTorch training loop (``from cankd.nn import CanKDLoss``)."""
from .can_kd_loss import CanKDLoss
from .functional import (AFFINITIES, cross_attention, dot_product_attention,
                         key_value_average, softmax_attention)

__all__ = [
    'CanKDLoss', 'AFFINITIES', 'cross_attention', 'dot_product_attention',
    'key_value_average', 'softmax_attention'
]
