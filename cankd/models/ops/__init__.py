# Copyright (c) cankd contributors. All rights reserved.
from .cross_attention import (AFFINITIES, cross_attention,
                              dot_product_attention, key_value_average,
                              softmax_attention)

__all__ = [
    'AFFINITIES', 'cross_attention', 'dot_product_attention',
    'key_value_average', 'softmax_attention'
]
