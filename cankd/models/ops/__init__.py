# Copyright (c) cankd contributors. All rights reserved.
from .cross_attention import (AFFINITIES, cross_attention,
                              dot_product_attention, softmax_attention)

__all__ = [
    'AFFINITIES', 'cross_attention', 'dot_product_attention',
    'softmax_attention'
]
