# Copyright (c) cankd contributors. All rights reserved.
"""The attention kernels equal their written-out dense forms."""
import pytest
import torch

from cankd.nn.functional import (cross_attention, dot_product_attention,
                                 key_value_average, softmax_attention)


@pytest.fixture
def qkv():
    torch.manual_seed(0)
    # Value channels differ from query/key channels on purpose.
    return (torch.randn(2, 30, 5, dtype=torch.float64),
            torch.randn(2, 7, 5, dtype=torch.float64),
            torch.randn(2, 7, 3, dtype=torch.float64))


def test_dot_product_is_the_reassociated_normalised_product(qkv):
    query, key, value = qkv
    dense = (query @ key.transpose(1, 2) / key.shape[1]) @ value
    torch.testing.assert_close(dot_product_attention(query, key, value), dense)


def test_key_value_average_reads_channel_first_maps(qkv):
    _, key, value = qkv
    key_maps, value_maps = key.transpose(1, 2), value.transpose(1, 2)
    expected = sum(
        torch.einsum('be,bv->bev', key[:, i], value[:, i])
        for i in range(key.shape[1])) / key.shape[1]
    torch.testing.assert_close(key_value_average(key_maps, value_maps),
                               expected)


def test_softmax_attention_has_no_temperature(qkv):
    query, key, value = qkv
    dense = (query @ key.transpose(1, 2)).softmax(-1) @ value
    torch.testing.assert_close(softmax_attention(query, key, value), dense)


@pytest.mark.parametrize('affinity,kernel',
                         [('dot_product', dot_product_attention),
                          ('gaussian', softmax_attention),
                          ('embedded_gaussian', softmax_attention)])
def test_cross_attention_dispatches_on_affinity(qkv, affinity, kernel):
    assert torch.equal(cross_attention(*qkv, affinity=affinity), kernel(*qkv))


def test_cross_attention_rejects_unknown_affinity(qkv):
    with pytest.raises(ValueError, match="Unknown affinity 'cosine'"):
        cross_attention(*qkv, affinity='cosine')
