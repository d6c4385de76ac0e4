# Copyright (c) cankd contributors. All rights reserved.
from .atomic_io import (AtomicTextFile, atomic_save_figure, atomic_torch_save,
                        atomic_write, fsync_dir, remove_stale_temp_files,
                        stale_temp_files)
from .checkpoint_files import (checkpoint_problem, describe_file,
                               newest_good_checkpoint, runner_checkpoints)
from .resume import find_resumable_checkpoint
from .work_dir_lock import WorkDirInUseError, WorkDirLock

__all__ = [
    'atomic_write', 'atomic_torch_save', 'atomic_save_figure', 'AtomicTextFile',
    'fsync_dir',
    'stale_temp_files', 'remove_stale_temp_files', 'describe_file',
    'checkpoint_problem', 'runner_checkpoints', 'newest_good_checkpoint',
    'find_resumable_checkpoint', 'WorkDirLock', 'WorkDirInUseError'
]
