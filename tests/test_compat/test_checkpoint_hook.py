# Copyright (c) cankd contributors. All rights reserved.
"""mmengine's CheckpointHook, as cankd patches it: a complete checkpoint is
on disk at every instant of a save, whatever ``max_keep_ckpts`` is."""
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.hooks import checkpoint_hook
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.model import BaseModel
from mmengine.runner import Runner

from cankd import compat
from cankd.utils import AtomicTextFile


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(data_samples))**2).mean())
        return out


def train(work_dir, max_iters: int, max_keep_ckpts: int, name: str,
          checkpoint: dict = {}, **kwargs) -> Runner:
    dataset = [
        dict(inputs=torch.randn(2), data_samples=torch.randn(1))
        for _ in range(8)
    ]
    runner = Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=dict(
            dataset=dataset,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False, max_keep_ckpts=max_keep_ckpts,
                            **checkpoint)),
        default_scope='mmengine',
        **dict(dict(train_cfg=dict(by_epoch=False, max_iters=max_iters)),
               **kwargs))
    runner.train()
    return runner


@pytest.fixture
def file_events(monkeypatch):
    """What the hook does to the work dir, in order: ('save', name),
    ('last_checkpoint', name it points at), ('remove', name)."""
    events = []
    put, remove = LocalBackend.put, LocalBackend.remove

    def record_put(self, obj, filepath):
        put(self, obj, filepath)
        events.append(('save', osp.basename(str(filepath))))

    def record_remove(self, filepath):
        events.append(('remove', osp.basename(str(filepath))))
        remove(self, filepath)

    def record_exit(self, *exc_info):
        content = self.getvalue()
        exit_(self, *exc_info)
        events.append(('last_checkpoint', osp.basename(content)))

    exit_ = AtomicTextFile.__exit__
    monkeypatch.setattr(LocalBackend, 'put', record_put)
    monkeypatch.setattr(LocalBackend, 'remove', record_remove)
    monkeypatch.setattr(AtomicTextFile, '__exit__', record_exit)
    return events


@pytest.mark.parametrize('max_keep_ckpts', [1, 2])
def test_old_checkpoints_are_removed_only_after_the_new_one_is_saved(
        tmp_path, file_events, max_keep_ckpts):
    train(tmp_path, 8, max_keep_ckpts, f'keep{max_keep_ckpts}')

    saved = set()
    for action, name in file_events:
        if action == 'save':
            saved.add(name)
        if action == 'remove':
            newer = [n for n in saved if n > name]
            assert newer, f'{name} removed before a newer one was saved'
            # ... and after last_checkpoint points at the newer one.
            pointed = [n for a, n in file_events[:file_events.index(
                (action, name))] if a == 'last_checkpoint']
            assert pointed[-1] > name
    kept = sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth'))
    assert kept == ['iter_6.pth', 'iter_8.pth'][-max_keep_ckpts:]


class IterationMetric(BaseMetric):
    """A score that improves at every validation: each one is a new best."""

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        self.calls = getattr(self, 'calls', 0) + 1
        return dict(score=float(self.calls))


def test_the_previous_best_is_removed_only_after_the_new_best_is_saved(
        tmp_path, file_events):
    val_data = [dict(inputs=torch.randn(2), data_samples=torch.randn(1))]
    train(tmp_path, 6, 1, 'best',
          train_cfg=dict(by_epoch=False, max_iters=6, val_interval=2),
          val_dataloader=dict(dataset=val_data, batch_size=1,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False)),
          val_cfg=dict(), val_evaluator=Evaluator(IterationMetric()),
          checkpoint=dict(save_best='score', rule='greater'))
    for old, new in [('best_score_iter_2.pth', 'best_score_iter_4.pth'),
                     ('best_score_iter_4.pth', 'best_score_iter_6.pth')]:
        assert file_events.index(('save', new)) < file_events.index(
            ('remove', old))
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith('best')) \
        == ['best_score_iter_6.pth']


def test_a_failed_save_removes_nothing(tmp_path, monkeypatch):
    train(tmp_path, 2, 1, 'first')
    save = Runner.save_checkpoint

    def disk_full(self, out_dir, filename, *args, **kwargs):
        if filename == 'iter_4.pth':
            raise OSError(28, 'No space left on device')
        return save(self, out_dir, filename, *args, **kwargs)

    monkeypatch.setattr(Runner, 'save_checkpoint', disk_full)
    with pytest.raises(OSError, match='No space left'):
        train(tmp_path, 4, 1, 'second', resume=True)
    assert osp.isfile(tmp_path / 'iter_2.pth')
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')


def test_last_checkpoint_is_written_atomically(tmp_path):
    record = tmp_path / 'last_checkpoint'
    record.write_text('/work/iter_2.pth')
    # The hook writes it with `open(path, 'w')` in its own module.
    with pytest.raises(KeyboardInterrupt):
        with checkpoint_hook.open(str(record), 'w') as f:
            f.write('/work/iter_4')
            raise KeyboardInterrupt  # killed mid-write
    assert record.read_text() == '/work/iter_2.pth'
    assert os.listdir(tmp_path) == ['last_checkpoint']
    with checkpoint_hook.open(str(record), 'w') as f:
        f.write('/work/iter_4.pth')
    assert record.read_text() == '/work/iter_4.pth'


def test_temp_files_of_a_killed_save_are_removed_by_the_next_save(tmp_path):
    # What a job killed while writing iter_4.pth and last_checkpoint leaves.
    stale = ['.iter_4.pth.k3j2_x.tmp', '.last_checkpoint.a8d7q1.tmp']
    unrelated = ['.notes.txt.abcdef.tmp', 'iter_4.pth.tmp']
    for name in stale + unrelated:
        (tmp_path / name).write_bytes(b'partial')
    train(tmp_path, 2, 1, 'after_kill')
    left = set(os.listdir(tmp_path))
    assert not left & set(stale)
    assert set(unrelated) <= left


def test_patch_is_idempotent():
    assert compat.patch_checkpoint_hook() is False
    assert compat.patch_resume_lookup() is False
