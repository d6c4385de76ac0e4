# Copyright (c) cankd contributors. All rights reserved.
"""A distillation checkpoint loaded into a plain model is an error that
names the converter command, not a warning followed by random weights; an
MMRazor algorithm still loads (resumes from) its own checkpoint."""
import sys

import pytest
import torch
from mmengine.runner import load_checkpoint
from torch import nn

from cankd.compat import (DistillationCheckpointError,
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
