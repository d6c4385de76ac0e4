# Copyright (c) cankd contributors. All rights reserved.
"""A distillation checkpoint becomes a plain student checkpoint."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cankd.utils.student_checkpoint import (extract_student, student_meta,
                                            student_checkpoint_path)

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


def test_converter_writes_stem_student_next_to_the_input_and_reports(
        tmp_path):
    ckpt = tmp_path / 'iter_8.pth'
    torch.save(kd_checkpoint(), ckpt)
    result = run_converter(str(ckpt))
    assert result.returncode == 0, result.stderr
    assert 'kept 2 student tensors' in result.stdout
    assert 'dropped 1 teacher.* tensors' in result.stdout
    converted = torch.load(tmp_path / 'iter_8_student.pth', weights_only=True)
    assert list(converted['state_dict']) == [
        'backbone.conv.weight', 'neck.conv.bias'
    ]


@pytest.mark.parametrize(
    'out_path, written',
    [
        # MMRazor's form: a folder, existing or ending in '/' (created).
        ('deploy', 'deploy/kd_student.pth'),
        ('new/', 'new/kd_student.pth'),
        ('new_folder', 'new_folder/kd_student.pth'),
        # cankd also takes the file itself.
        ('deploy/student.pth', 'deploy/student.pth'),
    ])
def test_converter_out_path_is_a_folder_or_a_pth_file(tmp_path, out_path,
                                                      written):
    ckpt = tmp_path / 'kd.pth'
    torch.save(kd_checkpoint(), ckpt)
    (tmp_path / 'deploy').mkdir()
    result = run_converter(str(ckpt), '--out-path', str(tmp_path) + '/' +
                           out_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / written).is_file()
    assert f'saved {tmp_path}/{written}' in result.stdout.replace('//', '/')
    assert not list(tmp_path.rglob('*.tmp')), 'atomic write left a file'


def test_output_path_rules(tmp_path):
    (tmp_path / 'exists').mkdir()
    ckpt = str(tmp_path / 'epoch_24.pth')
    assert student_checkpoint_path(ckpt) == str(
        tmp_path / 'epoch_24_student.pth')
    assert student_checkpoint_path(ckpt, str(tmp_path / 'exists')) == str(
        tmp_path / 'exists' / 'epoch_24_student.pth')
    assert student_checkpoint_path(ckpt, 'out/') == 'out/epoch_24_student.pth'
    assert student_checkpoint_path(ckpt, 'a/b.pth') == 'a/b.pth'
    assert student_checkpoint_path(ckpt, 'a/b.pth', inplace=True) == ckpt


def test_converter_inplace_replaces_the_input(tmp_path):
    ckpt = tmp_path / 'kd.pth'
    torch.save(kd_checkpoint(), ckpt)
    assert run_converter(str(ckpt), '--inplace').returncode == 0
    assert 'teacher.backbone.conv.weight' not in torch.load(
        ckpt, weights_only=True)['state_dict']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['kd.pth']


def test_converter_refuses_to_overwrite_its_input_without_inplace(tmp_path):
    ckpt = tmp_path / 'kd.pth'
    torch.save(kd_checkpoint(), ckpt)
    result = run_converter(str(ckpt), '--out-path', str(ckpt))
    assert result.returncode != 0
    assert 'pass --inplace' in result.stderr


def test_converter_says_what_a_non_distillation_file_is(tmp_path):
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={'backbone.w': torch.ones(1)}), plain)
    result = run_converter(str(plain))
    assert result.returncode != 0
    assert 'holds no student weights' in result.stderr
    assert 'plain model checkpoint, which needs no conversion' in \
        result.stderr
    assert 'Traceback' not in result.stderr

    no_student = tmp_path / 'teacher_only.pth'
    torch.save(dict(state_dict={'teacher.w': torch.ones(1),
                                'distiller.w': torch.ones(1)}), no_student)
    result = run_converter(str(no_student))
    assert result.returncode != 0
    assert 'distillation checkpoint whose student is empty' in result.stderr

    missing = run_converter(str(tmp_path / 'missing.pth'))
    assert missing.returncode != 0
    assert 'does not exist' in missing.stderr


def test_numpy_values_of_meta_become_python_numbers():
    import numpy as np
    meta = student_meta(dict(seed=np.int64(3), loss=np.float32(0.5),
                             nested=dict(values=[np.float64(1.0)])))
    assert meta == dict(seed=3, loss=0.5, nested=dict(values=[1.0]))
    assert type(meta['seed']) is int
