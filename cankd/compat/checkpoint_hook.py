# Copyright (c) cankd contributors. All rights reserved.
"""Make mmengine's ``CheckpointHook`` keep a complete checkpoint at every
instant.

mmengine 0.10's hook deletes the oldest checkpoint (``max_keep_ckpts``) and
the previous best one *before* it writes the new one, and writes
``last_checkpoint`` in place with ``open(path, 'w')``. A job killed during
that save, with ``max_keep_ckpts=1``, keeps no checkpoint at all, and one
killed while ``last_checkpoint`` is rewritten leaves it empty. This shim

* defers the hook's removals until the new checkpoint and
  ``last_checkpoint`` are on disk (a failed save removes nothing);
* writes ``last_checkpoint`` through
  :class:`~cankd.utils.atomic_io.AtomicTextFile`;
* deletes the temporary files an earlier, killed save left behind once a
  save has completed.
"""
import functools
import os.path as osp
from typing import Callable, List, Tuple

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from ..utils.atomic_io import AtomicTextFile, remove_stale_temp_files

_MARK = '__cankd_save_first__'
# The files whose temporary copies a killed save can leave behind.
_SAVED_FILES = ('*.pth', 'last_checkpoint')


def _open_atomically(file, mode='r', *args, **kwargs):
    """``open`` for the hook's module: text writes become atomic."""
    if mode == 'w' and not args and set(kwargs) <= {'encoding'}:
        return AtomicTextFile(file, **kwargs)
    return open(file, mode, *args, **kwargs)


class _DeferredRemovals:
    """Stands in for the hook's file backend while a checkpoint is saved:
    records ``remove``/``rmtree`` calls instead of running them."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.pending: List[Tuple[str, str]] = []

    def remove(self, path) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path) -> None:
        self.pending.append(('rmtree', path))

    def __getattr__(self, name):
        return getattr(self.backend, name)


def _kept_paths(hook) -> set:
    """Checkpoints the hook refers to after a save: never removed, even if
    a removal of the same name was queued before they were re-saved."""
    kept = {getattr(hook, 'last_ckpt', None),
            getattr(hook, 'best_ckpt_path', None)}
    kept.update((getattr(hook, 'best_ckpt_path_dict', None) or {}).values())
    return {str(path) for path in kept if path is not None}


def _save_first(method: Callable) -> Callable:
    """Wrap a saving method of the hook so that its removals run after it
    returns, and only if it returns."""

    @functools.wraps(method)
    def wrapper(self, runner, *args, **kwargs):
        if isinstance(self.file_backend, _DeferredRemovals):
            # Nested call (_save_best_checkpoint re-saves the latest): the
            # outermost call runs the removals.
            return method(self, runner, *args, **kwargs)
        deferred = _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            result = method(self, runner, *args, **kwargs)
        finally:
            self.file_backend = deferred.backend
        if is_main_process():
            kept = _kept_paths(self)
            for action, path in deferred.pending:
                if str(path) not in kept:
                    getattr(self.file_backend, action)(path)
            _remove_stale_temp_files(self, runner)
        return result

    setattr(wrapper, _MARK, True)
    return wrapper


def _remove_stale_temp_files(hook, runner) -> None:
    folders = {runner.work_dir}
    if hook.out_dir is not None and osp.isdir(str(hook.out_dir)):
        folders.add(str(hook.out_dir))
    for folder in sorted(folders):
        for path in remove_stale_temp_files(folder, _SAVED_FILES):
            print_log(f'Removed {path}, left by a save that was interrupted.',
                      logger='current')


def patch_checkpoint_hook() -> bool:
    """Save new checkpoints before removing old ones; write
    ``last_checkpoint`` atomically.

    Feature-detected (mmengine's ``CheckpointHook`` with
    ``_save_checkpoint_with_step``) and idempotent.

    Returns:
        bool: Whether this call applied the patch.
    """
    # Imported here: mmengine.hooks pulls in much of mmengine, and
    # ``import cankd`` stubs mmrazor's quantization before anything else.
    from mmengine.hooks import checkpoint_hook as hook_module
    from mmengine.hooks.checkpoint_hook import CheckpointHook
    methods = ('_save_checkpoint_with_step', '_save_best_checkpoint')
    if not all(hasattr(CheckpointHook, name) for name in methods):
        return False
    if getattr(CheckpointHook._save_checkpoint_with_step, _MARK, False):
        return False
    for name in methods:
        setattr(CheckpointHook, name, _save_first(getattr(CheckpointHook,
                                                          name)))
    # The hook writes last_checkpoint with the builtin open; a module-level
    # name shadows it for that module only.
    hook_module.open = _open_atomically
    return True
