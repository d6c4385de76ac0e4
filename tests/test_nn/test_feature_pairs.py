# Copyright (c) cankd contributors. All rights reserved.
"""The checks every loss of cankd.nn runs (CanKDLoss, ACAMKDLoss) reject
bad input with a message that names the loss, both shapes and the fix."""
import pytest
import torch

from cankd.nn.feature_pairs import (at_least_fp32, check_feature_pair,
                                    check_finite_teacher, check_positive_int)


@pytest.mark.parametrize('student,teacher,error,match', [
    ((2, 8, 6, 6), (2, 8, 6), ValueError,
     r'SomeLoss expects t_feature of shape \(B, C, H, W\), got \(2, 8, 6\)'),
    ((2, 4, 6, 6), (2, 8, 6, 6), ValueError,
     r'in_channels=8 but s_feature has 4 channels.*connector'),
    ((2, 8, 12, 12), (2, 8, 6, 6), ValueError,
     r'same spatial size, got student \(2, 8, 12, 12\) and teacher '
     r'\(2, 8, 6, 6\).*same stride'),
    ((1, 8, 6, 6), (2, 8, 6, 6), ValueError,
     r'batch of 1 student features and 2 teacher'),
])
def test_rejects_mismatched_features_naming_both_shapes(
        student, teacher, error, match):
    with pytest.raises(error, match=match):
        check_feature_pair('SomeLoss', 8, torch.randn(student),
                           torch.randn(teacher))


def test_accepts_a_matching_pair():
    check_feature_pair('SomeLoss', 8, torch.randn(2, 8, 5, 3),
                       torch.randn(2, 8, 5, 3))


def test_rejects_a_tuple_of_levels_and_says_how_to_pick_one():
    levels = (torch.randn(1, 8, 4, 4), torch.randn(1, 8, 2, 2))
    with pytest.raises(TypeError, match='SomeLoss.*got tuple.*data_idx'):
        check_feature_pair('SomeLoss', 8, levels, levels)


def test_a_non_finite_loss_from_a_non_finite_teacher_is_an_error():
    teacher = torch.ones(1, 2, 2, 2)
    check_finite_teacher('SomeLoss', torch.tensor(float('nan')), teacher)
    teacher[0, 1, 0, 0] = float('inf')
    check_finite_teacher('SomeLoss', torch.tensor(1.0), teacher)
    with pytest.raises(ValueError, match=r'SomeLoss got non-finite.*'
                       r'teacher feature \(1, 2, 2, 2\)'):
        check_finite_teacher('SomeLoss', torch.tensor(float('inf')), teacher)


@pytest.mark.parametrize('value', [0, -1, 1.5, True, '2', None])
def test_positive_int_names_the_argument(value):
    with pytest.raises(ValueError, match=f'SomeLoss expects size to be a '
                       f'positive int, got {value!r}'):
        check_positive_int('SomeLoss', 'size', value)


def test_at_least_fp32_upcasts_half_precision_only():
    assert at_least_fp32(torch.ones(1, dtype=torch.bfloat16)).dtype == \
        torch.float32
    double = torch.ones(1, dtype=torch.float64)
    assert at_least_fp32(double) is double
