# Copyright (c) cankd contributors. All rights reserved.
"""Cross-attention kernels of the Can block, as pure functions on tensors.

Every function takes ``query`` of shape ``(B, L, E)``, ``key`` of shape
``(B, S, E)`` and ``value`` of shape ``(B, S, Ev)`` and returns ``(B, L, Ev)``,
like :func:`torch.nn.functional.scaled_dot_product_attention` with one head.
``L`` is the number of student pixels (``H*W``) and ``S`` the number of pooled
teacher pixels (``N'``).
"""
from typing import Callable, Dict

import torch
import torch.nn.functional as F
from torch import Tensor

AFFINITIES = ('dot_product', 'gaussian', 'embedded_gaussian')


def key_value_average(key: Tensor, value: Tensor) -> Tensor:
    """Average over the keys of the outer product of each key and its value.

    This ``(E, Ev)`` summary is all that the dot-product affinity keeps of
    the keys and values: without a softmax, ``(Q Kᵀ / S) V = Q (Kᵀ V / S)``.
    Channel-first, so that it reads pooled feature maps without a transpose.

    Args:
        key (Tensor): Keys, shape ``(B, E, S)``.
        value (Tensor): Values, shape ``(B, Ev, S)``.

    Returns:
        Tensor: ``K Vᵀ / S``, shape ``(B, E, Ev)``.
    """
    return torch.bmm(key, value.transpose(1, 2)).div_(key.shape[-1])


def dot_product_attention(query: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """Dot-product affinity without softmax, normalised by the key count.

    Computes ``(Q Kᵀ / S) V`` as ``Q (Kᵀ V / S)``. Without a softmax the
    product is associative, so the ``L × S`` affinity matrix is never formed:
    the cost is ``O((L + S) · E · Ev)`` time and ``O(E · Ev)`` extra memory
    instead of ``O(L · S)``. The two orders agree up to float rounding.

    Args:
        query (Tensor): Queries, shape ``(B, L, E)``.
        key (Tensor): Keys, shape ``(B, S, E)``.
        value (Tensor): Values, shape ``(B, S, Ev)``.

    Returns:
        Tensor: Attended values, shape ``(B, L, Ev)``.
    """
    summary = key_value_average(key.transpose(1, 2), value.transpose(1, 2))
    return torch.bmm(query, summary)


def softmax_attention(query: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """Softmax affinity over the keys, without temperature scaling.

    The non-local ``gaussian`` and ``embedded_gaussian`` affinities use
    ``softmax(Q Kᵀ) V`` (no ``1/sqrt(E)``). The softmax does not reassociate,
    so this goes through the fused kernel, which avoids storing the ``L × S``
    matrix wherever the backend has a flash or memory-efficient kernel.

    Args:
        query (Tensor): Queries, shape ``(B, L, E)``.
        key (Tensor): Keys, shape ``(B, S, E)``.
        value (Tensor): Values, shape ``(B, S, Ev)``.

    Returns:
        Tensor: Attended values, shape ``(B, L, Ev)``.
    """
    dim, value_dim = query.shape[-1], value.shape[-1]
    if dim != value_dim:
        # Fused kernels want one head size for Q, K and V; zero padding
        # leaves every dot product, hence the result, unchanged.
        width = max(dim, value_dim)
        query = F.pad(query, (0, width - dim))
        key = F.pad(key, (0, width - dim))
        value = F.pad(value, (0, width - value_dim))
    # Fused kernels also need a unit stride in the last dimension; the CPU
    # backend otherwise falls back to the quadratic-memory math kernel.
    query, key, value = (x.unsqueeze(1).contiguous()
                         for x in (query, key, value))
    out = F.scaled_dot_product_attention(query, key, value, scale=1.0)
    return out.squeeze(1)[..., :value_dim]


_KERNELS: Dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    'dot_product': dot_product_attention,
    'gaussian': softmax_attention,
    'embedded_gaussian': softmax_attention,
}


def cross_attention(query: Tensor,
                    key: Tensor,
                    value: Tensor,
                    affinity: str = 'dot_product') -> Tensor:
    """Attend student queries to teacher keys and values.

    Args:
        query (Tensor): Queries, shape ``(B, L, E)``.
        key (Tensor): Keys, shape ``(B, S, E)``.
        value (Tensor): Values, shape ``(B, S, Ev)``.
        affinity (str): One of :data:`AFFINITIES`. Defaults to
            ``'dot_product'``.

    Returns:
        Tensor: Attended values, shape ``(B, L, Ev)``.
    """
    try:
        kernel = _KERNELS[affinity]
    except KeyError:
        raise ValueError(f'Unknown affinity {affinity!r}; expected one of '
                         f'{AFFINITIES}.') from None
    return kernel(query, key, value)
