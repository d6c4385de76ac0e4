# Copyright (c) cankd contributors. All rights reserved.
"""Make mmengine's local file writes atomic.

mmengine's ``LocalBackend`` writes checkpoints and ``last_checkpoint`` in
place: a job killed mid-save (pre-emption, out of disk) leaves a truncated
``iter_N.pth`` that resume then trips over. Routing the writes through a
temporary file and a rename keeps the previous checkpoint intact.
"""
from mmengine.fileio.backends.local_backend import LocalBackend

from ..utils.atomic_io import atomic_write

_MARK = '__cankd_atomic__'


def _put(self, obj: bytes, filepath) -> None:
    atomic_write(obj, str(filepath))


def _put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
    atomic_write(obj, str(filepath), encoding=encoding)


def patch_atomic_checkpoint_writes() -> bool:
    """Replace ``LocalBackend.put``/``put_text`` with atomic versions.

    Idempotent.

    Returns:
        bool: Whether this call applied the patch.
    """
    if getattr(LocalBackend.put, _MARK, False):
        return False
    for name, func in (('put', _put), ('put_text', _put_text)):
        func.__doc__ = getattr(LocalBackend, name).__doc__
        setattr(func, _MARK, True)
        setattr(LocalBackend, name, func)
    return True
