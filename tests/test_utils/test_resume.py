# Copyright (c) cankd contributors. All rights reserved.
"""``--resume`` without a path finds the newest checkpoint that loads, when
``last_checkpoint`` is missing, empty, or names a missing or cut-off file,
and says what it skipped and why."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.runner import find_latest_checkpoint

from cankd.utils import find_resumable_checkpoint


def save(path, iteration: int) -> str:
    torch.save({'meta': {'iter': iteration}, 'state_dict': {}}, str(path))
    return str(path)


def truncate(path) -> None:
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])


@pytest.fixture
def work_dir(tmp_path):
    """iter_2.pth and iter_4.pth, last_checkpoint naming iter_4.pth."""
    save(tmp_path / 'iter_2.pth', 2)
    save(tmp_path / 'iter_4.pth', 4)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    return tmp_path


@pytest.fixture
def warnings(caplog):
    """The warnings cankd logs, as one string."""
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING)
    yield lambda: caplog.text
    logger.removeHandler(caplog.handler)


def test_a_sound_last_checkpoint_is_used(work_dir, warnings):
    assert find_resumable_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_4.pth')
    assert warnings() == ''


def test_mmengine_lookup_is_cankd_s():
    # Runner.load_or_resume calls mmengine.runner's find_latest_checkpoint.
    from mmengine.runner import runner
    assert runner.find_latest_checkpoint is find_latest_checkpoint
    assert find_latest_checkpoint.__name__ == '_find_latest_checkpoint'


def test_empty_last_checkpoint_falls_back_to_the_newest(work_dir, warnings):
    (work_dir / 'last_checkpoint').write_text('')
    assert find_latest_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_4.pth')
    assert 'last_checkpoint is empty' in warnings()


def test_missing_last_checkpoint_falls_back_to_the_newest(work_dir,
                                                          warnings):
    (work_dir / 'last_checkpoint').unlink()
    assert find_latest_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_4.pth')
    assert 'last_checkpoint does not exist' in warnings()


def test_last_checkpoint_naming_a_removed_file(work_dir, warnings):
    (work_dir / 'iter_4.pth').unlink()
    assert find_latest_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_2.pth')
    assert f'Not resuming from {work_dir / "iter_4.pth"}' in warnings()
    assert 'it does not exist' in warnings()


def test_cut_off_checkpoints_are_skipped_with_the_reason(work_dir, warnings):
    truncate(work_dir / 'iter_4.pth')
    save(work_dir / 'iter_6.pth', 6)
    truncate(work_dir / 'iter_6.pth')  # newer, not in last_checkpoint
    assert find_latest_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_2.pth')
    text = warnings()
    assert f'Not resuming from {work_dir / "iter_4.pth"}' in text
    assert f'Skipping {work_dir / "iter_6.pth"}: it is a truncated ' \
           'PyTorch checkpoint' in text
    assert f'Resuming from {work_dir / "iter_2.pth"}, the newest complete ' \
           'checkpoint' in text


def test_nothing_to_resume_from(tmp_path, warnings):
    assert find_latest_checkpoint(str(tmp_path)) is None
    assert 'No complete checkpoint' in warnings()
