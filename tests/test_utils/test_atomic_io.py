# Copyright (c) cankd contributors. All rights reserved.
"""Checkpoints are written atomically: a failed write leaves the previous
file intact and no temporary file behind."""
import os

import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend

from cankd.utils import atomic_torch_save, atomic_write


def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / 'sub' / 'file.txt'
    atomic_write('first', str(path))
    atomic_write(b'second', str(path))
    assert path.read_text() == 'second'
    assert os.listdir(path.parent) == ['file.txt']


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / 'iter_4.pth'
    atomic_torch_save({'iter': 4}, str(path))

    def die(fd):
        raise KeyboardInterrupt  # the job is killed mid-write

    monkeypatch.setattr(os, 'fsync', die)
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save({'iter': 5, 'big': torch.zeros(1000)}, str(path))
    assert torch.load(str(path)) == {'iter': 4}
    assert os.listdir(tmp_path) == ['iter_4.pth']


def test_mmengine_local_writes_go_through_atomic_write(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr('cankd.compat.atomic_checkpoint.atomic_write',
                        lambda *args, **kw: calls.append(args))
    backend = LocalBackend()
    backend.put(b'weights', tmp_path / 'iter_1.pth')
    backend.put_text('iter_1.pth', tmp_path / 'last_checkpoint')
    assert [c[1] for c in calls] == [
        str(tmp_path / 'iter_1.pth'),
        str(tmp_path / 'last_checkpoint')
    ]
