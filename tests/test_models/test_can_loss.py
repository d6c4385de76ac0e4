# Copyright (c) cankd contributors. All rights reserved.
"""CanLoss reproduces the CanKD formula (README.md) for every option, at linear
memory cost, and rejects bad input with messages that say what to do."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch.utils._python_dispatch import TorchDispatchMode

from cankd.models import CanLoss


def reference_can_loss(loss: CanLoss, student, teacher):
    """The formula of README.md written out literally from the module's
    parameters: the ``HW × N'`` affinity matrix is materialised and every
    norm is spelled out, sharing no code with CanLoss."""

    def conv1x1(x, conv):
        return torch.einsum('oc,bchw->bohw', conv.weight[:, :, 0, 0],
                            x) + conv.bias.view(1, -1, 1, 1)

    def maxpool(x):
        p = loss.pool_size
        b, c, h, w = x.shape
        x = x[:, :, :h // p * p, :w // p * p]
        return x.reshape(b, c, h // p, p, w // p, p).amax(dim=(3, 5))

    def normalise(x, dims, eps=1e-5):
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean)**2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps)

    b, _, h, w = student.shape
    if loss.affinity == 'gaussian':
        query, key = student, maxpool(teacher)
    else:
        query, key = conv1x1(student, loss.theta), maxpool(
            conv1x1(teacher, loss.phi))
    value = maxpool(conv1x1(teacher, loss.g))
    query = query.reshape(b, query.shape[1], h * w)  # B, E, HW
    key = key.reshape(b, key.shape[1], -1)  # B, E, N'
    value = value.reshape(b, value.shape[1], -1)  # B, C', N'
    affinity = query.transpose(1, 2) @ key  # B, HW, N'
    if loss.affinity == 'dot_product':
        affinity = affinity / key.shape[-1]
    else:
        affinity = affinity.softmax(dim=-1)
    y = (affinity @ value.transpose(1, 2)).transpose(1, 2).reshape(
        b, -1, h, w)
    bn = loss.w_z[1]
    z = conv1x1(y, loss.w_z[0])
    z = normalise(z, (0, 2, 3), bn.eps) * bn.weight.view(
        1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    if loss.residual:
        z = z + student
    target = teacher
    if loss.instance_norm:
        z, target = normalise(z, (2, 3)), normalise(target, (2, 3))
    return loss.loss_weight * ((z - target)**2).mean() / 2


def randomise_w_z_norm(loss: CanLoss) -> None:
    """Give W_z's BN non-zero affine parameters so the attention matters."""
    with torch.no_grad():
        loss.w_z[1].weight.normal_()
        loss.w_z[1].bias.normal_()


# Odd sizes lose their last row/column. With C' = 3, maps of at least 24
# pixels take the folded order, (2, 4, 5) the unfolded one.
SHAPES = [(1, 9, 7), (2, 17, 16), (2, 4, 5)]
CASES = [(affinity, pool, residual, norm, shape)
         for affinity, pool, residual, norm, shape in itertools.product(
             ['dot_product', 'gaussian', 'embedded_gaussian'], [2, 4, 8],
             [True, False], [True, False], SHAPES)
         if min(shape[1:]) >= pool]


@pytest.mark.parametrize('affinity,pool_size,residual,instance_norm,shape',
                         CASES)
def test_matches_reference_values_and_gradients(affinity, pool_size,
                                                residual, instance_norm,
                                                shape):
    batch, height, width = shape
    torch.manual_seed(0)
    loss = CanLoss(
        in_channels=6,
        inter_channels=3,
        affinity=affinity,
        pool_size=pool_size,
        residual=residual,
        instance_norm=instance_norm,
        loss_weight=10.0).double()
    randomise_w_z_norm(loss)
    student = torch.randn(batch, 6, height, width, dtype=torch.float64,
                          requires_grad=True)
    teacher = torch.randn(batch, 6, height, width, dtype=torch.float64,
                          requires_grad=True)
    params = list(loss.parameters())

    ours = loss(student, teacher)
    expected = reference_can_loss(loss, student, teacher)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)

    ours_grads = torch.autograd.grad(ours, [student, teacher, *params])
    expected_grads = torch.autograd.grad(expected,
                                         [student, teacher, *params])
    names = ['student', 'teacher'] + [n for n, _ in loss.named_parameters()]
    for name, got, want in zip(names, ours_grads, expected_grads):
        torch.testing.assert_close(
            got, want, rtol=1e-9, atol=1e-11, msg=lambda m: f'{name}: {m}')


@pytest.mark.parametrize('size,convolutions', [(16, 1), (7, 3)])
def test_folds_theta_attention_and_w_z_on_maps_of_8_c_prime_pixels(
        size, convolutions):
    """C' = 8: a 16×16 map (256 ≥ 64 pixels) runs one convolution (φ and
    g together) and one folded matmul over the pixels; a 7×7 map runs θ,
    φ/g and W_z as convolutions."""
    ops = []

    class RecordOps(TorchDispatchMode):

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            ops.append(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    loss = CanLoss(in_channels=16)
    student, teacher = torch.randn(2, 2, 16, size, size).unbind(0)
    with RecordOps():
        loss(student, teacher)
    assert ops.count('convolution') == convolutions
    assert ('baddbmm' in ops) == (convolutions == 1)


def test_float32_matches_reference_within_float_tolerance():
    torch.manual_seed(0)
    loss = CanLoss(in_channels=32, loss_weight=10.0)
    randomise_w_z_norm(loss)
    student, teacher = torch.randn(2, 2, 32, 40, 40).unbind(0)
    torch.testing.assert_close(
        loss(student, teacher), reference_can_loss(loss, student, teacher),
        rtol=1e-5, atol=1e-6)


def test_starts_as_identity_so_first_loss_is_halved_mse_of_normalised():
    torch.manual_seed(0)
    loss = CanLoss(in_channels=8, loss_weight=10.0)
    student, teacher = torch.randn(2, 2, 8, 12, 10).unbind(0)
    expected = 10.0 / 2 * F.mse_loss(
        F.instance_norm(student), F.instance_norm(teacher))
    torch.testing.assert_close(loss(student, teacher), expected)
    assert torch.equal(loss.refine(student, teacher), student)


def test_submodules_map_onto_the_papers_block():
    loss = CanLoss(in_channels=256)
    assert loss.inter_channels == 128
    assert [name for name, _ in loss.named_children()
            ] == ['theta', 'phi', 'g', 'w_z']
    for conv in (loss.theta, loss.phi, loss.g):
        assert isinstance(conv, torch.nn.Conv2d)
        assert conv.kernel_size == (1, 1) and conv.bias is not None
    assert isinstance(loss.w_z[1], torch.nn.BatchNorm2d)
    assert not loss.w_z[1].weight.any() and not loss.w_z[1].bias.any()
    # The paper's 0.13 M parameters per 256-channel level include W_z's BN.
    assert sum(p.numel() for p in loss.parameters()) == 132_224


def test_gaussian_affinity_has_no_query_or_key_embedding():
    loss = CanLoss(in_channels=16, affinity='gaussian')
    assert loss.theta is None and loss.phi is None
    assert 'theta.weight' not in loss.state_dict()


def test_inter_channels_defaults_to_half_and_at_least_one():
    assert CanLoss(in_channels=7).inter_channels == 3
    assert CanLoss(in_channels=1).inter_channels == 1


def test_init_weights_zeroes_w_z_norm_again():
    loss = CanLoss(in_channels=4)
    randomise_w_z_norm(loss)
    loss.init_weights()
    assert not loss.w_z[1].weight.any() and not loss.w_z[1].bias.any()


def test_extra_repr_lists_the_options():
    text = repr(CanLoss(in_channels=256, loss_weight=10))
    assert ('in_channels=256, inter_channels=128, affinity=\'dot_product\', '
            'pool_size=2, residual=True, instance_norm=True, '
            'loss_weight=10') in text


def test_builds_from_a_config_dict_in_mmrazor_registry():
    loss = MODELS.build(
        dict(_scope_='mmrazor', type='CanLoss', in_channels=256,
             loss_weight=10, pool_size=4))
    assert isinstance(loss, CanLoss)
    assert loss.pool_size == 4 and loss.loss_weight == 10


def test_norm_cfg_selects_the_w_z_norm_layer():
    loss = CanLoss(in_channels=4, norm_cfg=dict(type='SyncBN'))
    assert isinstance(loss.w_z[1], torch.nn.SyncBatchNorm)


@pytest.mark.parametrize('affinity',
                         ['dot_product', 'gaussian', 'embedded_gaussian'])
def test_never_materialises_the_affinity_matrix(affinity, largest_tensor):
    """No op in forward or backward creates a ``B × HW × N'`` tensor."""
    torch.manual_seed(0)
    batch, channels, size = 2, 16, 64
    affinity_numel = batch * size * size * (size // 2)**2
    loss = CanLoss(in_channels=channels, affinity=affinity)
    randomise_w_z_norm(loss)
    student = torch.randn(batch, channels, size, size, requires_grad=True)
    teacher = torch.randn(batch, channels, size, size)

    with largest_tensor() as ours:
        loss(student, teacher).backward()
    with largest_tensor() as dense:
        reference_can_loss(loss, student, teacher).backward()

    assert dense.numel >= affinity_numel  # the probe does see the matrix
    assert ours.numel < affinity_numel // 8
    assert ours.numel == batch * channels * size * size


def test_autocast_runs_attention_and_loss_in_fp32():
    torch.manual_seed(0)
    loss = CanLoss(in_channels=16, loss_weight=10.0)
    randomise_w_z_norm(loss)
    student, teacher = torch.randn(2, 2, 16, 24, 24).unbind(0)
    matmul_dtypes = []

    class RecordMatmuls(TorchDispatchMode):

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket in (torch.ops.aten.bmm,
                                       torch.ops.aten.baddbmm,
                                       torch.ops.aten.mm):
                matmul_dtypes.append(args[0].dtype)
            return func(*args, **(kwargs or {}))

    with torch.autocast('cpu', dtype=torch.bfloat16), RecordMatmuls():
        mixed = loss(student, teacher)
    full = loss(student, teacher)

    assert mixed.dtype == torch.float32
    assert matmul_dtypes and set(matmul_dtypes) == {torch.float32}
    # Only the teacher's 1x1 projections ran in bfloat16.
    torch.testing.assert_close(mixed, full, rtol=2e-2, atol=1e-3)


# Every check but the pooling window is check_feature_pair's, tested in
# tests/test_nn/test_feature_pairs.py; here, that CanLoss runs them.
@pytest.mark.parametrize('student,teacher,error,match', [
    ((2, 4, 6, 6), (2, 8, 6, 6), ValueError,
     r'CanLoss was built with in_channels=8 but s_feature has 4 channels'),
    ((2, 8, 12, 12), (2, 8, 6, 6), ValueError,
     r'same spatial size, got student \(2, 8, 12, 12\) and teacher'),
    ((2, 8, 1, 6), (2, 8, 1, 6), ValueError,
     r'smaller than its pooling window pool_size=2'),
])
def test_rejects_mismatched_features_naming_both_shapes(
        student, teacher, error, match):
    loss = CanLoss(in_channels=8)
    with pytest.raises(error, match=match):
        loss(torch.randn(student), torch.randn(teacher))


def test_rejects_a_tuple_of_levels_and_says_how_to_pick_one():
    loss = CanLoss(in_channels=8)
    levels = (torch.randn(1, 8, 4, 4), torch.randn(1, 8, 2, 2))
    with pytest.raises(TypeError, match='got tuple.*data_idx'):
        loss(levels, levels)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_rejects_non_finite_teacher_features(bad):
    loss = CanLoss(in_channels=8)
    teacher = torch.randn(1, 8, 4, 4)
    teacher[0, 3, 1, 2] = bad
    with pytest.raises(ValueError, match='non-finite values.*teacher'):
        loss(torch.randn(1, 8, 4, 4), teacher)


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=0), 'in_channels to be a positive int, got 0'),
    (dict(in_channels=8, inter_channels=0), 'inter_channels'),
    (dict(in_channels=8, pool_size=1.5), 'pool_size'),
    (dict(in_channels=8, affinity='softmax'), "affinity='softmax'"),
])
def test_rejects_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CanLoss(**kwargs)
