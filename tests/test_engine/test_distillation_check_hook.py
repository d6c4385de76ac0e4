# Copyright (c) cankd contributors. All rights reserved.
"""Before the first iteration, DistillationCheckHook refuses a teacher left
at random initialisation and levels paired across strides."""
import types

import pytest
from mmrazor.registry import HOOKS, MODELS


def fpn_distill(student, teacher, teacher_index=0):
    recorder = dict(fpn=dict(type='ModuleOutputs', source='neck'))
    return dict(
        _scope_='mmrazor',
        type='FpnTeacherDistill',
        architecture=student,
        teacher=teacher,
        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=recorder,
            teacher_recorders=recorder,
            distill_losses=dict(loss_can=dict(type='CanLoss',
                                              in_channels=16)),
            loss_forward_mappings=dict(loss_can=dict(
                s_feature=dict(from_student=True, recorder='fpn',
                               data_idx=0),
                t_feature=dict(from_student=False, recorder='fpn',
                               data_idx=teacher_index)))))


def run_before_run(algorithm, **hook_args):
    hook = HOOKS.build(dict(type='mmrazor.DistillationCheckHook',
                            image_size=(128, 128), **hook_args))
    hook.before_run(types.SimpleNamespace(model=algorithm))


def test_teacher_without_weights_is_refused(tiny_retinanet):
    algorithm = MODELS.build(fpn_distill(tiny_retinanet(8),
                                         tiny_retinanet(16)))
    with pytest.raises(ValueError, match=r'teacher has no weights.*'
                       r'model\.teacher_ckpt=PATH_OR_URL'):
        run_before_run(algorithm)


def test_levels_across_strides_are_refused(tiny_retinanet):
    algorithm = MODELS.build(
        fpn_distill(tiny_retinanet(8), tiny_retinanet(16), teacher_index=1))
    algorithm.teacher.is_init = True  # as after loading teacher_ckpt
    with pytest.raises(ValueError, match=r"loss_can pairs student recorder "
                       r"'fpn\[0\]'.*teacher recorder 'fpn\[1\]'.*strides "
                       r'differ'):
        run_before_run(algorithm)


def test_matching_pairs_pass(tiny_retinanet):
    algorithm = MODELS.build(fpn_distill(tiny_retinanet(8),
                                         tiny_retinanet(16)))
    run_before_run(algorithm, require_teacher_ckpt=False)
