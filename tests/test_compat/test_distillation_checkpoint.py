# Copyright (c) cankd contributors. All rights reserved.
"""A distillation checkpoint loaded into a plain model is an error that
names the converter command, not a warning followed by random weights; so
is a plain (converted) student checkpoint loaded into the distillation
algorithm; an MMRazor algorithm still loads (resumes from) its own
checkpoint."""
import sys

import pytest
import torch
from mmengine.runner import load_checkpoint
from torch import nn

from cankd.compat import (DistillationCheckpointError, StudentCheckpointError,
                          patch_distillation_checkpoint_guard)


class Student(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 1)


class Algorithm(nn.Module):
    """The shape of an MMRazor distillation algorithm's weights."""

    def __init__(self):
        super().__init__()
        self.architecture = Student()
        self.teacher = Student()


@pytest.fixture
def kd_checkpoint(tmp_path):
    path = tmp_path / 'iter_8.pth'
    torch.save(dict(state_dict=Algorithm().state_dict(), meta=dict(iter=8)),
               path)
    return path


def test_plain_model_refuses_a_distillation_checkpoint(kd_checkpoint):
    with pytest.raises(DistillationCheckpointError) as error:
        load_checkpoint(Student(), str(kd_checkpoint))
    message = str(error.value)
    assert f'{kd_checkpoint} is a distillation checkpoint' in message
    assert 'architecture.*, teacher.*' in message
    assert ('python tools/model_converters/convert_kd_ckpt_to_student.py '
            f'{kd_checkpoint}') in message
    assert str(kd_checkpoint.parent / 'iter_8_student.pth') in message


def test_algorithm_loads_its_own_checkpoint(kd_checkpoint):
    algorithm = Algorithm()
    load_checkpoint(algorithm, str(kd_checkpoint), strict=True)
    saved = torch.load(kd_checkpoint, weights_only=True)['state_dict']
    assert torch.equal(algorithm.teacher.backbone.weight,
                       saved['teacher.backbone.weight'])


def test_plain_checkpoints_load_as_before(tmp_path):
    path = tmp_path / 'student.pth'
    source = Student()
    torch.save(dict(state_dict=source.state_dict()), path)
    student = Student()
    load_checkpoint(student, str(path), strict=True)
    assert torch.equal(student.backbone.weight, source.backbone.weight)


def test_in_memory_weights_are_refused_without_a_file_name():
    from mmengine.runner.checkpoint import load_state_dict
    with pytest.raises(DistillationCheckpointError,
                       match='These weights are a distillation checkpoint'):
        load_state_dict(Student(), Algorithm().state_dict())


def test_algorithm_refuses_a_plain_student_checkpoint(tmp_path):
    path = tmp_path / 'iter_8_student.pth'
    torch.save(dict(state_dict=Student().state_dict()), path)
    with pytest.raises(StudentCheckpointError) as error:
        load_checkpoint(Algorithm(), str(path))
    message = str(error.value)
    assert f'{path} is a plain model checkpoint' in message
    assert 'whose student is under architecture.*' in message
    assert f'tools/test.py STUDENT_CONFIG {path}' in message
    # Whoever reports the one kind of mismatch reports the other.
    assert isinstance(error.value, DistillationCheckpointError)


def test_weights_of_the_algorithm_itself_are_not_refused():
    """Keys that are the algorithm's own (e.g. a partial state dict of its
    teacher, under teacher.*) or match none of its student's load as
    before: only a whole student, one prefix short, is refused."""
    from mmengine.runner.checkpoint import load_state_dict
    algorithm = Algorithm()
    teacher_only = {f'teacher.{k}': v
                    for k, v in Student().state_dict().items()}
    load_state_dict(algorithm, teacher_only)
    assert torch.equal(algorithm.teacher.backbone.weight,
                       teacher_only['teacher.backbone.weight'])
    load_state_dict(algorithm, {'head.weight': torch.zeros(1)})


def test_guard_is_applied_once():
    assert patch_distillation_checkpoint_guard() is False


def test_tools_test_refuses_a_distillation_checkpoint_with_the_command(
        tmp_path, run_command):
    """tools/test.py with the plain student config and the unconverted
    checkpoint: an error naming the converter, before any evaluation."""
    from mmengine.config import Config

    from cankd.utils.build import build_model_offline
    demo = 'configs/demo/'
    kd_cfg = Config.fromfile(
        demo + 'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py')
    ckpt = tmp_path / 'iter_4.pth'
    torch.save(dict(state_dict=build_model_offline(kd_cfg).state_dict()),
               ckpt)
    with pytest.raises(AssertionError) as failed:
        run_command(sys.executable, 'tools/test.py',
                    demo + 'retinanet_r18-w16_fpn64_fashion.py', ckpt,
                    '--work-dir', tmp_path / 'test')
    output = str(failed.value)
    assert f'ERROR: {ckpt} is a distillation checkpoint' in output
    assert f'convert_kd_ckpt_to_student.py {ckpt}' in output
    assert 'Traceback' not in output
    assert 'coco/bbox_mAP' not in output


def test_tools_test_refuses_a_student_checkpoint_with_the_kd_config(
        tmp_path, run_command):
    """The converted student with the distillation config: an error
    naming the plain config to use, not the mAP of random weights."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    demo = 'configs/demo/'
    init_default_scope('mmdet')
    saved = {}
    for name, config in (('student', 'retinanet_r18-w16_fpn64_fashion.py'),
                         ('teacher',
                          'retinanet_mobilenetv2_fpn64_fashion.py')):
        model = MODELS.build(Config.fromfile(demo + config).model)
        saved[name] = tmp_path / f'{name}.pth'
        torch.save(dict(state_dict=model.state_dict()), saved[name])
    with pytest.raises(AssertionError) as failed:
        run_command(sys.executable, 'tools/test.py',
                    demo + 'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_'
                    'fashion.py', saved['student'], '--work-dir',
                    tmp_path / 'test', '--cfg-options',
                    f'model.teacher_ckpt={saved["teacher"]}')
    ckpt = saved['student']
    output = str(failed.value)
    assert f'ERROR: {ckpt} is a plain model checkpoint' in output
    assert 'loaded into the distillation algorithm FpnTeacherDistill' in output
    assert 'Traceback' not in output
    assert 'coco/bbox_mAP' not in output
