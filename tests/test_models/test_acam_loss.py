# Copyright (c) cankd contributors. All rights reserved.
"""ACAMLoss (unofficial re-implementation of ACAM-KD) equals the paper's
equations as written (docs/acam_kd.md), values and gradients, keeps its
masks' shapes and ranges, trains its mask generators and not the student
through them, and rejects bad input as CanLoss does."""
import itertools
import math

import pytest
import torch
from mmrazor.registry import MODELS

from cankd.models import ACAMLoss
from cankd.nn import ACAMKDLoss
from cankd.nn.acam_functional import dice_diversity


def reference_acam_loss(loss: ACAMLoss, student, teacher):
    """The equations written out literally, one sample and one mask at a
    time, the ``HW × HW`` attention matrix materialised; no code shared
    with ACAMLoss. The student enters the fusion detached, the teacher is
    detached (the documented choices)."""

    def conv1x1(x, conv):  # x: (C, N)
        out = conv.weight[:, :, 0, 0] @ x
        return out if conv.bias is None else out + conv.bias[:, None]

    def dice(a, b):
        return 2 * (a * b).sum() / ((a * a).sum() + 1e-12 +
                                    (b * b).sum() + 1e-12)

    teacher = teacher.detach()
    num_masks, total = loss.num_masks, 0
    for f_s, f_t in zip(student, teacher):
        channels, n = f_s.shape[0], f_s[0].numel()
        f_s, f_t = f_s.reshape(channels, n), f_t.reshape(channels, n)
        q = conv1x1(f_t, loss.query)
        k = conv1x1(f_s.detach(), loss.key)
        v = conv1x1(f_s.detach(), loss.value)
        attention = torch.softmax(q.T @ k / math.sqrt(q.shape[0]), dim=1)
        fused = v @ attention.T  # (C, N)
        spatial = torch.sigmoid(loss.spatial_tokens @ fused)  # (M, N)
        pooled = fused.mean(dim=1)
        channel = torch.stack([
            torch.sigmoid(loss.channel_units[m] @ pooled)
            for m in range(num_masks)
        ])  # (M, C)
        d = f_t - f_s
        l_c = sum(((channel[m][:, None] * d)**2).sum() /
                  (n * channel[m].sum()) for m in range(num_masks))
        l_s = sum(((spatial[m][None, :] * d)**2).sum() /
                  (channels * spatial[m].sum()) for m in range(num_masks))
        pairs = [(i, j) for i in range(num_masks) for j in range(num_masks)
                 if i != j]
        div = 0
        if pairs:
            div = (sum(dice(spatial[i], spatial[j]) for i, j in pairs) +
                   sum(dice(channel[i], channel[j])
                       for i, j in pairs)) / len(pairs)
        total = total + loss.alpha * (l_c + l_s) / num_masks + \
            loss.diversity_weight * div
    return total / len(student)


def randomise_selection_units(loss: ACAMLoss) -> None:
    """Masks far from 0.5, so that every term depends on them."""
    with torch.no_grad():
        loss.spatial_tokens.normal_()
        loss.channel_units.normal_(std=0.5)


CASES = list(
    itertools.product([(1, 5, 7), (2, 4, 4), (2, 1, 1)], [1, 2, 6],
                      [(1.0, 1.0), (0.5, 2.0)]))


@pytest.mark.parametrize('shape,num_masks,weights', CASES)
def test_matches_reference_values_and_gradients(shape, num_masks, weights):
    batch, height, width = shape
    torch.manual_seed(0)
    loss = ACAMLoss(in_channels=6, num_masks=num_masks, query_channels=3,
                    alpha=weights[0], diversity_weight=weights[1]).double()
    randomise_selection_units(loss)
    student = torch.randn(batch, 6, height, width, dtype=torch.float64,
                          requires_grad=True)
    teacher = torch.randn(batch, 6, height, width, dtype=torch.float64)
    params = list(loss.parameters())

    ours = loss(student, teacher)
    expected = reference_acam_loss(loss, student, teacher)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)

    ours_grads = torch.autograd.grad(ours, [student, *params])
    expected_grads = torch.autograd.grad(expected, [student, *params])
    names = ['student'] + [n for n, _ in loss.named_parameters()]
    for name, got, want in zip(names, ours_grads, expected_grads):
        torch.testing.assert_close(
            got, want, rtol=1e-9, atol=1e-11, msg=lambda m: f'{name}: {m}')


def test_float32_matches_reference_within_float_tolerance():
    torch.manual_seed(0)
    loss = ACAMLoss(in_channels=32)
    randomise_selection_units(loss)
    student, teacher = torch.randn(2, 2, 32, 20, 24).unbind(0)
    torch.testing.assert_close(
        loss(student, teacher), reference_acam_loss(loss, student, teacher),
        rtol=1e-5, atol=1e-6)


def test_masks_have_the_papers_shapes_and_start_near_one_half():
    torch.manual_seed(0)
    loss = ACAMLoss(in_channels=16, num_masks=6)
    student, teacher = torch.randn(2, 3, 16, 9, 7).unbind(0)
    spatial, channel = loss.masks(student, teacher)
    assert spatial.shape == (3, 6, 9, 7) and channel.shape == (3, 6, 16)
    for masks in (spatial, channel):
        assert ((masks > 0) & (masks < 1)).all()
        # N(0, 0.01²) selection units, as MasKD's tokens: σ(≈0) = 0.5.
        assert (masks - 0.5).abs().max() < 0.05
    randomise_selection_units(loss)
    spatial, _ = loss.masks(student, teacher)
    assert spatial.std() > 0.1  # the masks do depend on the position


def test_parameters_map_onto_the_papers_modules():
    loss = ACAMLoss(in_channels=256)
    assert loss.query_channels == 128 and loss.num_masks == 6
    shapes = {n: tuple(p.shape) for n, p in loss.named_parameters()}
    assert shapes == {
        'spatial_tokens': (6, 256),  # m_s ∈ R^{M×C}
        'channel_units': (6, 256, 256),  # one C×C map per channel mask
        'query.weight': (128, 256, 1, 1), 'query.bias': (128, ),
        'key.weight': (128, 256, 1, 1),  # no bias: softmax ignores it
        'value.weight': (256, 256, 1, 1), 'value.bias': (256, ),
    }


def test_dice_diversity_is_one_for_equal_masks_zero_for_disjoint_ones():
    equal = torch.rand(2, 3, 10).expand(2, 3, 10).clone()
    equal[:, 1:] = equal[:, :1]
    torch.testing.assert_close(dice_diversity(equal),
                               torch.tensor(1.0), rtol=0, atol=1e-6)
    disjoint = torch.eye(4).unsqueeze(0).repeat(2, 1, 1)
    assert dice_diversity(disjoint) == 0
    # Half overlap: 2·1 / (2 + 2) for every pair.
    halves = torch.tensor([[[1., 1., 0.], [0., 1., 1.]]])
    torch.testing.assert_close(dice_diversity(halves), torch.tensor(0.5))
    assert dice_diversity(torch.rand(2, 1, 10)) == 0  # no pair


def test_diversity_term_trains_the_masks_and_pushes_them_apart():
    torch.manual_seed(0)
    loss = ACAMLoss(in_channels=8, num_masks=4, alpha=0.0)
    student, teacher = torch.randn(2, 2, 8, 6, 6).unbind(0)
    optimizer = torch.optim.Adam(loss.parameters(), lr=0.05)
    before = [dice_diversity(m.flatten(2)) for m in loss.masks(student,
                                                               teacher)]
    for _ in range(20):
        value = loss(student, teacher)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    after = [dice_diversity(m.flatten(2)) for m in loss.masks(student,
                                                              teacher)]
    # Masks start alike (Dice ≈ 1); both types move apart.
    assert min(before) > 0.99
    assert max(after) < 0.5


def test_generators_learn_from_the_loss_the_student_only_from_d():
    torch.manual_seed(0)
    loss = ACAMLoss(in_channels=8, num_masks=3)
    randomise_selection_units(loss)
    student = torch.randn(2, 8, 6, 6, requires_grad=True)
    teacher = torch.randn(2, 8, 6, 6, requires_grad=True)
    loss(student, teacher).backward()
    for name, param in loss.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert teacher.grad is None  # the teacher is a fixed target

    # Without the masked losses, only the masks remain: they read a
    # detached student, so the student gets no gradient at all.
    diversity_only = ACAMLoss(in_channels=8, num_masks=3, alpha=0.0)
    value = diversity_only(student, teacher)
    assert value > 0
    grad, = torch.autograd.grad(value, student, allow_unused=True)
    assert grad is None or not grad.any()


def test_never_materialises_the_attention_matrix(largest_tensor):
    """STCA-FF's ``HW × HW`` softmax goes through the fused kernel,
    forward and backward."""
    torch.manual_seed(0)
    batch, channels, size = 2, 16, 48
    attention_numel = batch * (size * size)**2
    loss = ACAMLoss(in_channels=channels)
    student = torch.randn(batch, channels, size, size, requires_grad=True)
    teacher = torch.randn(batch, channels, size, size)
    with largest_tensor() as ours:
        loss(student, teacher).backward()
    with largest_tensor() as dense:
        reference_acam_loss(loss, student, teacher).backward()
    assert dense.numel >= attention_numel // batch  # the probe sees it
    assert ours.numel < attention_numel // 64


def test_autocast_runs_in_fp32():
    torch.manual_seed(0)
    loss = ACAMLoss(in_channels=16)
    randomise_selection_units(loss)
    student, teacher = torch.randn(2, 2, 16, 12, 12).unbind(0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        mixed = loss(student, teacher)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, loss(student, teacher))


def test_is_the_torch_only_module_in_mmrazors_registry():
    loss = MODELS.build(
        dict(_scope_='mmrazor', type='ACAMLoss', in_channels=64,
             num_masks=4, alpha=2.0))
    assert isinstance(loss, ACAMLoss) and isinstance(loss, ACAMKDLoss)
    assert loss.num_masks == 4 and loss.alpha == 2.0
    plain = ACAMKDLoss(in_channels=64, num_masks=4, alpha=2.0)
    assert plain.state_dict().keys() == loss.state_dict().keys()
    assert ('in_channels=64, num_masks=4, query_channels=32, alpha=2.0, '
            'diversity_weight=1.0') in repr(loss)


def test_checks_its_inputs_naming_itself():
    """The checks themselves: tests/test_nn/test_feature_pairs.py."""
    loss = ACAMLoss(in_channels=8)
    student, teacher = torch.randn(2, 4, 6, 6), torch.randn(2, 8, 6, 6)
    match = r'ACAMLoss was built with in_channels=8 but s_feature has 4'
    with pytest.raises(ValueError, match=match):
        loss(student, teacher)
    with pytest.raises(ValueError, match=match):
        loss.masks(student, teacher)
    with pytest.raises(ValueError, match=r'same spatial size'):
        loss(torch.randn(2, 8, 6, 6), torch.randn(2, 8, 3, 3))


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_rejects_non_finite_teacher_features(bad):
    loss = ACAMLoss(in_channels=8)
    teacher = torch.randn(1, 8, 4, 4)
    teacher[0, 3, 1, 2] = bad
    with pytest.raises(ValueError, match='ACAMLoss got non-finite.*teacher'):
        loss(torch.randn(1, 8, 4, 4), teacher)


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=0), 'in_channels to be a positive int, got 0'),
    (dict(in_channels=8, num_masks=0), 'num_masks'),
    (dict(in_channels=8, num_masks=2.5), 'num_masks'),
    (dict(in_channels=8, query_channels=0), 'query_channels'),
    (dict(in_channels=8, alpha=-1), 'alpha to be a number >= 0, got -1'),
    (dict(in_channels=8, diversity_weight=float('nan')), 'diversity_weight'),
    (dict(in_channels=8, alpha='1'), 'alpha'),
])
def test_rejects_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ACAMLoss(**kwargs)
