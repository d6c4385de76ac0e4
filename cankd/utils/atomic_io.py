# Copyright (c) cankd contributors. All rights reserved.
"""Atomic file writes: a reader sees the old file or the new one, never a
half-written one, even if the writer is killed mid-write."""
import os
import os.path as osp
import tempfile
from typing import Any, Union

import torch


def atomic_write(data: Union[bytes, str], path: str,
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Args:
        data (bytes | str): The content; ``str`` is encoded with ``encoding``.
        path (str): Destination. Its folder is created if missing.
        encoding (str): Text encoding. Defaults to ``'utf-8'``.
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # The temporary file lives beside the target so that the rename stays on
    # one filesystem, where os.replace is atomic.
    fd, tmp_path = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        # mkstemp creates the file 0600; give it the mode open() would.
        os.chmod(tmp_path, 0o666 & ~_umask())
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_torch_save(obj: Any, path: str) -> None:
    """:func:`torch.save` to ``path`` atomically.

    Args:
        obj: What to save.
        path (str): Destination.
    """
    import io
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(buffer.getvalue(), path)
