# Copyright (c) cankd contributors. All rights reserved.
"""Checkpoints are written atomically: a failed write leaves the previous
file intact and no temporary file behind."""
import os

import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend

from cankd.utils import (AtomicTextFile, atomic_save_figure,
                         atomic_torch_save, atomic_write,
                         remove_stale_temp_files, stale_temp_files)


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


def test_a_figure_is_saved_whole_as_png_and_closed(tmp_path):
    matplotlib = pytest.importorskip('matplotlib')
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    path = tmp_path / 'curve.png'
    assert atomic_save_figure(figure, str(path), dpi=50) == str(path)
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert os.listdir(tmp_path) == ['curve.png']
    assert figure.number not in plt.get_fignums()


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


def test_the_rename_is_made_durable(tmp_path, monkeypatch):
    synced = []
    fsync = os.fsync

    def record(fd):
        synced.append(os.path.realpath(f'/proc/self/fd/{fd}'))
        fsync(fd)

    monkeypatch.setattr(os, 'fsync', record)
    atomic_write(b'weights', str(tmp_path / 'iter_2.pth'))
    # First the temporary file's data, then the folder holding the rename.
    assert synced[0].startswith(str(tmp_path / '.iter_2.pth.'))
    assert synced[-1] == str(tmp_path)


def test_atomic_text_file_replaces_on_success_only(tmp_path):
    path = tmp_path / 'last_checkpoint'
    with AtomicTextFile(str(path)) as f:
        f.write('iter_2.pth')
    with pytest.raises(RuntimeError):
        with AtomicTextFile(str(path)) as f:
            f.write('iter_4')
            raise RuntimeError('killed')
    assert path.read_text() == 'iter_2.pth'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_stale_temp_files_are_found_by_target(tmp_path):
    names = ['.iter_6.pth.x1y2z3.tmp', '.last_checkpoint.q9w8e7.tmp',
             '.results.json.abc123.tmp', 'iter_4.pth']
    for name in names:
        (tmp_path / name).write_bytes(b'')
    targets = ['*.pth', 'last_checkpoint']
    expected = [str(tmp_path / n) for n in sorted(names[:2])]
    assert stale_temp_files(str(tmp_path), targets) == expected
    assert remove_stale_temp_files(str(tmp_path), targets) == expected
    assert sorted(os.listdir(tmp_path)) == sorted(names[2:])
