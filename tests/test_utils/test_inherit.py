# Copyright (c) cankd contributors. All rights reserved.
"""CanKD†: the student's neck and head start from the teacher's, every
skipped tensor is reported, and a module that inherits nothing fails."""
import types

import pytest
import torch
from mmrazor.registry import HOOKS, MODELS

from cankd.utils.inherit import inherit_from_teacher, inherit_module


@pytest.fixture(scope='module')
def student_and_teacher(tiny_retinanet):
    torch.manual_seed(0)
    return (MODELS.build(tiny_retinanet(8)),
            MODELS.build(tiny_retinanet(16, num_classes=5)))


def test_neck_is_copied_tensor_by_tensor(student_and_teacher):
    student, teacher = student_and_teacher
    # The FPN lateral convs see different backbone widths; the rest matches.
    report = inherit_module(student, teacher, 'neck')
    assert report.loaded == report.total - len(report.mismatched) > 0
    assert {name for name, _, _ in report.mismatched} == {
        f'lateral_convs.{i}.conv.weight' for i in range(3)
    } | {'fpn_convs.3.conv.weight'}
    assert torch.equal(student.neck.fpn_convs[0].conv.weight,
                       teacher.neck.fpn_convs[0].conv.weight)
    assert 'skipped for shape mismatch: lateral_convs.0.conv.weight' in (
        report.summary())


def test_head_with_other_class_count_skips_only_the_classifier(
        student_and_teacher):
    student, teacher = student_and_teacher
    report = inherit_module(student, teacher, 'bbox_head')
    assert [name for name, _, _ in report.mismatched
            ] == ['retina_cls.weight', 'retina_cls.bias']
    assert torch.equal(student.bbox_head.retina_reg.weight,
                       teacher.bbox_head.retina_reg.weight)


def test_a_module_that_loads_nothing_is_an_error(student_and_teacher):
    student, teacher = student_and_teacher
    with pytest.raises(ValueError, match="Inheriting 'backbone.conv1' .*"
                       'loaded no tensor'):
        inherit_module(student, teacher, 'backbone.conv1')


def test_a_missing_module_is_named(student_and_teacher):
    student, teacher = student_and_teacher
    with pytest.raises(ValueError, match=r"Cannot inherit 'roi_head': the "
                       r'student has no such module \(its top-level modules: '
                       r'data_preprocessor, backbone, neck, bbox_head\)'):
        inherit_from_teacher(student, teacher, ['neck', 'roi_head'])


def run_hook(student, teacher, has_loaded):
    """The hook's calls in a Runner's train(): after_load_checkpoint when
    it loaded or resumed a checkpoint, then before_train."""
    hook = HOOKS.build(
        dict(type='mmrazor.InheritTeacherHook', modules=['bbox_head']))
    model = types.SimpleNamespace(student=student, teacher=teacher)
    runner = types.SimpleNamespace(model=model)
    if has_loaded:
        hook.after_load_checkpoint(runner, {})
    hook.before_train(runner)


def test_hook_inherits_on_a_fresh_run_only(tiny_retinanet):
    teacher = MODELS.build(tiny_retinanet(16))
    resumed_student = MODELS.build(tiny_retinanet(8))
    before = resumed_student.bbox_head.retina_reg.weight.clone()
    run_hook(resumed_student, teacher, has_loaded=True)
    assert torch.equal(resumed_student.bbox_head.retina_reg.weight, before)

    fresh_student = MODELS.build(tiny_retinanet(8))
    run_hook(fresh_student, teacher, has_loaded=False)
    assert torch.equal(fresh_student.bbox_head.retina_reg.weight,
                       teacher.bbox_head.retina_reg.weight)


def test_hook_needs_a_list_of_modules():
    with pytest.raises(ValueError, match='list of module names'):
        HOOKS.build(dict(type='mmrazor.InheritTeacherHook', modules='neck'))
