# Copyright (c) cankd contributors. All rights reserved.
"""Which checkpoint ``--resume`` (without a path) continues from.

mmengine resumes from the file named in ``<work_dir>/last_checkpoint`` and
fails if that file is missing, empty, or names a checkpoint that is gone or
cut off. :func:`find_resumable_checkpoint` then falls back to the newest
complete ``iter_N.pth``/``epoch_N.pth`` of the work dir, and says which
file it skipped and why.
"""
import logging
import os.path as osp
from typing import Optional

from mmengine.logging import print_log

from .checkpoint_files import checkpoint_problem, runner_checkpoints

LAST_CHECKPOINT = 'last_checkpoint'


def _recorded_checkpoint(work_dir: str) -> Optional[str]:
    """The path ``last_checkpoint`` names, or None with a message."""
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(record):
        print_log(f'{record} does not exist.', logger='current',
                  level=logging.WARNING)
        return None
    with open(record, encoding='utf-8', errors='replace') as f:
        recorded = f.read().strip()
    if not recorded:
        print_log(f'{record} is empty (a save was interrupted).',
                  logger='current', level=logging.WARNING)
        return None
    return recorded


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from in ``work_dir``.

    Args:
        work_dir (str): The work dir of the interrupted run.

    Returns:
        str | None: The checkpoint ``last_checkpoint`` names if it is
        complete, else the newest complete runner checkpoint of the work dir
        (and of the folder ``last_checkpoint`` points into), else None.
    """
    recorded = _recorded_checkpoint(work_dir)
    folders = [work_dir]
    if recorded is not None:
        problem = checkpoint_problem(recorded)
        if problem is None:
            return recorded
        print_log(f'Not resuming from {recorded} (named in '
                  f'{osp.join(work_dir, LAST_CHECKPOINT)}): it {problem}.',
                  logger='current', level=logging.WARNING)
        if osp.dirname(recorded) and osp.dirname(recorded) != work_dir:
            folders.insert(0, osp.dirname(recorded))
    for folder in folders:
        for path in runner_checkpoints(folder):
            if recorded is not None and osp.abspath(path) == osp.abspath(
                    recorded):
                continue
            problem = checkpoint_problem(path)
            if problem is None:
                print_log(f'Resuming from {path}, the newest complete '
                          'checkpoint in the work dir.', logger='current',
                          level=logging.WARNING)
                return path
            print_log(f'Skipping {path}: it {problem}.', logger='current',
                      level=logging.WARNING)
    print_log(f'No complete checkpoint in {work_dir} to resume from: '
              'training starts from the beginning.', logger='current',
              level=logging.WARNING)
    return None
