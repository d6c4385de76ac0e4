# Copyright (c) cankd contributors. All rights reserved.
"""A distillation checkpoint becomes a plain student checkpoint."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cankd.utils.student_checkpoint import extract_student

CONVERTER = str(
    Path(__file__).resolve().parents[2] / 'tools' / 'model_converters' /
    'convert_kd_ckpt_to_student.py')


def kd_checkpoint():
    return dict(
        meta=dict(iter=8, dataset_meta=dict(classes=('a', 'b'))),
        state_dict={
            'architecture.backbone.conv.weight': torch.ones(2, 3, 1, 1),
            'architecture.neck.conv.bias': torch.zeros(2),
            'teacher.backbone.conv.weight': torch.ones(4, 3, 1, 1),
            'distiller.distill_losses.loss_can_fpn0.theta.weight':
            torch.ones(1, 2, 1, 1),
        },
        optimizer=dict(state={}),
        message_hub=dict())


def test_keeps_student_weights_without_prefix_and_meta():
    result = extract_student(kd_checkpoint())
    assert set(result.checkpoint) == {'state_dict', 'meta'}
    assert list(result.checkpoint['state_dict']) == [
        'backbone.conv.weight', 'neck.conv.bias'
    ]
    assert result.checkpoint['meta']['iter'] == 8
    assert result.kept == 2
    assert result.dropped == {'teacher': 1, 'distiller': 1}
    assert result.dropped_entries == ['message_hub', 'optimizer']


def test_refuses_a_checkpoint_without_student_weights():
    with pytest.raises(ValueError,
                       match=r"no student weights.*found backbone"):
        extract_student(dict(state_dict={'backbone.w': torch.ones(1)}))


def run_converter(*args):
    return subprocess.run([sys.executable, CONVERTER, *args],
                          capture_output=True, text=True, timeout=300)


def test_converter_writes_next_to_the_input_and_reports(tmp_path):
    ckpt = tmp_path / 'iter_8.pth'
    torch.save(kd_checkpoint(), ckpt)
    result = run_converter(str(ckpt))
    assert result.returncode == 0, result.stderr
    assert 'kept 2 student tensors' in result.stdout
    assert 'dropped 1 teacher.* tensors' in result.stdout
    converted = torch.load(tmp_path / 'student_iter_8.pth', weights_only=True)
    assert list(converted['state_dict']) == [
        'backbone.conv.weight', 'neck.conv.bias'
    ]


def test_converter_inplace_and_out_path(tmp_path):
    ckpt = tmp_path / 'kd.pth'
    torch.save(kd_checkpoint(), ckpt)
    out = tmp_path / 'deploy' / 'student.pth'
    assert run_converter(str(ckpt), '--out-path', str(out)).returncode == 0
    assert out.is_file()
    assert run_converter(str(ckpt), '--inplace').returncode == 0
    assert 'teacher.backbone.conv.weight' not in torch.load(
        ckpt, weights_only=True)['state_dict']


def test_converter_fails_clearly_on_bad_input(tmp_path):
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={'backbone.w': torch.ones(1)}), plain)
    result = run_converter(str(plain))
    assert result.returncode != 0
    assert 'holds no student weights' in result.stderr
    missing = run_converter(str(tmp_path / 'missing.pth'))
    assert missing.returncode != 0
    assert 'does not exist' in missing.stderr
