# Copyright (c) cankd contributors. All rights reserved.
"""``--resume`` without a path survives a damaged ``last_checkpoint``.

mmengine's ``find_latest_checkpoint`` returns whatever ``last_checkpoint``
holds: an empty string after a kill mid-write (``Checkpoint  does not
exist.``), or a checkpoint that was removed or cut off. cankd's
:func:`~cankd.utils.resume.find_resumable_checkpoint` checks that file and
falls back to the newest complete checkpoint of the work dir.
"""
import importlib

from ..utils.resume import find_resumable_checkpoint

_MARK = '__cankd_resumable__'
# Modules that hold their own reference to find_latest_checkpoint
# (``from .checkpoint import find_latest_checkpoint``).
_MODULES = ('mmengine.runner.checkpoint', 'mmengine.runner',
            'mmengine.runner.runner', 'mmengine.runner._flexible_runner')


def _find_latest_checkpoint(path: str):
    """mmengine's ``find_latest_checkpoint``, checked: see
    :func:`~cankd.utils.resume.find_resumable_checkpoint`."""
    return find_resumable_checkpoint(path)


setattr(_find_latest_checkpoint, _MARK, True)


def patch_resume_lookup() -> bool:
    """Point mmengine's ``find_latest_checkpoint`` at
    :func:`~cankd.utils.resume.find_resumable_checkpoint`.

    Feature-detected per module and idempotent.

    Returns:
        bool: Whether this call patched anything.
    """
    patched = False
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        current = getattr(module, 'find_latest_checkpoint', None)
        if current is None or getattr(current, _MARK, False):
            continue
        module.find_latest_checkpoint = _find_latest_checkpoint
        patched = True
    return patched
