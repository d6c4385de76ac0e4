# Copyright (c) cankd contributors. All rights reserved.
"""Checkpoints load with ``weights_only=True``: mmengine's own checkpoints
(resume, load_from, teacher_ckpt) work, anything else is refused."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint

from cankd import compat


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=((out - torch.stack(data_samples))**2).mean())
        return out


def toy_runner(work_dir: str, max_iters: int, name: str, **kwargs) -> Runner:
    dataset = [
        dict(inputs=torch.randn(2), data_samples=torch.randn(1))
        for _ in range(8)
    ]
    return Runner(
        model=ToyModel(),
        work_dir=work_dir,
        experiment_name=name,
        train_dataloader=dict(
            dataset=dataset,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False)),
        default_scope='mmengine',
        **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('runner'))
    toy_runner(work_dir, max_iters=4, name='ckpt_save').train()
    return work_dir, osp.join(work_dir, 'iter_4.pth')


def test_runner_checkpoints_need_the_allow_list(runner_checkpoint):
    """Without cankd, torch's weights_only load rejects mmengine's globals."""
    _, ckpt = runner_checkpoint
    bare = subprocess.run(
        [sys.executable, '-c',
         f'import torch; torch.load({ckpt!r}, weights_only=True)'],
        capture_output=True, text=True, timeout=300)
    assert bare.returncode != 0
    assert 'weights_only' in bare.stderr


def test_runner_checkpoint_loads_with_weights_only(runner_checkpoint):
    _, ckpt = runner_checkpoint
    checkpoint = torch.load(ckpt, weights_only=True)
    assert checkpoint['meta']['iter'] == 4
    assert 'message_hub' in checkpoint and 'optimizer' in checkpoint
    assert set(checkpoint['state_dict']) == {'linear.weight', 'linear.bias'}


def test_resume_continues_from_the_last_checkpoint(runner_checkpoint):
    work_dir, ckpt = runner_checkpoint
    runner = toy_runner(work_dir, max_iters=6, name='ckpt_resume',
                        resume=True)
    runner.train()
    assert runner.iter == 6
    assert osp.isfile(osp.join(work_dir, 'iter_6.pth'))


def test_load_from_restores_weights(runner_checkpoint):
    _, ckpt = runner_checkpoint
    model = ToyModel()
    load_checkpoint(model, ckpt)
    saved = torch.load(ckpt, weights_only=True)['state_dict']
    assert torch.equal(model.linear.weight, saved['linear.weight'])


class Payload:
    """Stands for any object a malicious pickle could smuggle in."""


class TrustedRecord:
    """A user type the user chooses to trust."""

    def __init__(self, value):
        self.value = value


def test_checkpoint_with_a_foreign_global_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': {'payload': Payload()}}, path)
    with pytest.raises(compat.UnsafeCheckpointError,
                       match=r'Refusing to load .*evil\.pth.*Payload.*'
                       r'allow_checkpoint_globals'):
        load_checkpoint(ToyModel(), path)


@pytest.fixture
def restore_safe_globals():
    saved = torch.serialization.get_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


def test_allow_checkpoint_globals_trusts_more_types(tmp_path,
                                                    restore_safe_globals):
    path = str(tmp_path / 'record.pth')
    torch.save({'record': TrustedRecord(3)}, path)
    with pytest.raises(compat.UnsafeCheckpointError, match='TrustedRecord'):
        compat.load_checkpoint_file(path)
    compat.allow_checkpoint_globals([TrustedRecord])
    assert compat.load_checkpoint_file(path)['record'].value == 3


def test_history_buffers_are_saved_without_their_methods():
    buffer = HistoryBuffer([1.0, 2.0], [1, 1])
    assert 'statistics_methods' not in buffer.__getstate__()
    restored = HistoryBuffer.__new__(HistoryBuffer)
    restored.__setstate__(buffer.__getstate__())
    assert restored.mean() == 1.5


def test_legacy_mmengine_checkpoint_is_refused_with_the_way_out(
        tmp_path, monkeypatch):
    # mmengine's own __getstate__ pickles bound methods via builtins.getattr.
    with monkeypatch.context() as m:
        m.setattr(HistoryBuffer, '__getstate__', lambda self: dict(
            self.__dict__, statistics_methods=self._statistics_methods))
        path = str(tmp_path / 'legacy.pth')
        torch.save({'message_hub': HistoryBuffer([1.0], [1])}, path)
    with pytest.raises(compat.UnsafeCheckpointError,
                       match='saved by mmengine without cankd.*getattr'):
        compat.load_checkpoint_file(path)


def test_truncated_checkpoint_is_reported_as_corrupt(runner_checkpoint,
                                                     tmp_path):
    _, ckpt = runner_checkpoint
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(open(ckpt, 'rb').read()[:200])
    with pytest.raises(compat.CorruptCheckpointError,
                       match=r'truncated\.pth cannot be loaded: it is a '
                       r'truncated PyTorch checkpoint'):
        load_checkpoint(ToyModel(), str(truncated))


def test_truncated_checkpoint_names_the_newest_good_one_beside_it(
        runner_checkpoint, tmp_path):
    _, ckpt = runner_checkpoint
    data = open(ckpt, 'rb').read()
    (tmp_path / 'iter_2.pth').write_bytes(data)
    (tmp_path / 'iter_4.pth').write_bytes(data[:len(data) // 2])
    with pytest.raises(compat.CorruptCheckpointError) as error:
        compat.load_checkpoint_file(str(tmp_path / 'iter_4.pth'))
    assert (f'The newest complete checkpoint beside it is '
            f'{tmp_path / "iter_2.pth"}: e.g. --resume '
            f'{tmp_path / "iter_2.pth"}') in str(error.value)


def _zip_without_checkpoint(path):
    import zipfile
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('model.onnx', b'onnx')


# (file content or a function writing it, what the error must say it is)
NOT_CHECKPOINTS = {
    'notes.txt': (b'teacher checkpoint: see the wiki\n',
                  "a text file (starting with 'teacher checkpoint"),
    'preview.png': (b'\x89PNG\r\n\x1a\n' + bytes(64), 'a PNG image'),
    'photo.jpg': (b'\xff\xd8\xff\xe0' + bytes(64), 'a JPEG image'),
    'metrics.json': (b'{"coco/bbox_mAP": 0.4}', 'a JSON file'),
    'download.pth': (b'<!DOCTYPE html><html><body>Sign in</body></html>',
                     'an HTML page'),
    'lfs.pth': (b'version https://git-lfs.github.com/spec/v1\noid sha256:0\n',
                'a Git LFS pointer'),
    'empty.pth': (b'', 'an empty file'),
    'model.zip': (_zip_without_checkpoint,
                  'a zip archive that is not a PyTorch checkpoint'),
}


@pytest.mark.parametrize('name', list(NOT_CHECKPOINTS))
def test_a_file_that_is_no_checkpoint_is_named_and_described(tmp_path, name):
    content, looks_like = NOT_CHECKPOINTS[name]
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    with pytest.raises(compat.CorruptCheckpointError) as error:
        # What teacher_ckpt, load_from and --resume go through.
        load_checkpoint(ToyModel(), str(path))
    message = str(error.value)
    assert f'Checkpoint {path} cannot be loaded: it is {looks_like}' in message
    assert 'teacher_ckpt, load_from, --resume' in message
    # Turning the safety check off is never the advice.
    assert 'weights_only' not in message


def test_a_foreign_pickle_is_not_answered_with_weights_only_advice(tmp_path):
    import pickle
    path = tmp_path / 'legacy.pkl'
    path.write_bytes(pickle.dumps({'weights': [1.0, 2.0]}, protocol=2))
    with pytest.raises(compat.CorruptCheckpointError) as error:
        compat.load_checkpoint_file(str(path))
    assert f'{path} cannot be loaded: it is a pickle file that' in str(
        error.value)
    assert 'weights_only' not in str(error.value)
    # torch's own message (with that advice) is not chained into the
    # traceback either.
    assert error.value.__suppress_context__


def test_missing_checkpoint_names_the_path_and_where_it_came_from(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=r'missing\.pth does not exist.*teacher_ckpt'):
        load_checkpoint(ToyModel(), str(tmp_path / 'missing.pth'))


def test_patch_is_idempotent():
    count = len(torch.serialization.get_safe_globals())
    assert compat.patch_checkpoint_loading() is False
    assert len(torch.serialization.get_safe_globals()) == count
