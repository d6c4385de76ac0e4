# Copyright (c) cankd contributors. All rights reserved.
"""Atomic file writes: a reader sees the old file or the new one, never a
half-written one, even if the writer is killed mid-write or the machine
loses power.

A write goes to a temporary file beside the target
(``.<name>.<random>.tmp``), which is flushed and fsynced, renamed over the
target, and the folder is fsynced so that the rename itself is durable.
A writer killed before the rename leaves its temporary file behind;
:func:`remove_stale_temp_files` deletes such leftovers.
"""
import fnmatch
import io
import os
import os.path as osp
import tempfile
from typing import Any, Iterable, List, Optional, Union

import torch

_TEMP_SUFFIX = '.tmp'


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
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix=_TEMP_SUFFIX)
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
    # Without this, a power loss right after the rename can bring back the
    # old directory entry (or none) even though the data itself is on disk.
    fsync_dir(folder)


def fsync_dir(folder: str) -> None:
    """Make the entries of ``folder`` (renames, removals) durable.

    A no-op where folders cannot be opened (Windows).

    Args:
        folder (str): The folder.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        # Some filesystems (and all of Windows) refuse fsync on a folder.
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicTextFile(io.StringIO):
    """A text file opened for writing whose content replaces ``path``
    atomically when it is closed without an error.

    Used as ``with AtomicTextFile(path) as f: f.write(...)``; if the block
    raises, ``path`` is left as it was.

    Args:
        path (str): Destination.
        encoding (str): Text encoding. Defaults to ``'utf-8'``.
    """

    def __init__(self, path: str, encoding: str = 'utf-8') -> None:
        super().__init__()
        self.name = path
        self._encoding = encoding

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            atomic_write(self.getvalue(), self.name, self._encoding)
        self.close()


def stale_temp_files(folder: str, targets: Iterable[str]) -> List[str]:
    """Temporary files that :func:`atomic_write` left in ``folder`` for
    targets matching one of the ``targets`` patterns.

    Args:
        folder (str): Where to look.
        targets (Iterable[str]): ``fnmatch`` patterns of target names, e.g.
            ``['*.pth', 'last_checkpoint']``.

    Returns:
        list[str]: Their paths, sorted.
    """
    if not osp.isdir(folder):
        return []
    patterns = [f'.{target}.*{_TEMP_SUFFIX}' for target in targets]
    return sorted(
        osp.join(folder, name) for name in os.listdir(folder)
        if any(fnmatch.fnmatchcase(name, p) for p in patterns))


def remove_stale_temp_files(folder: str, targets: Iterable[str]) -> List[str]:
    """Delete what :func:`stale_temp_files` finds.

    Only call this while no other process writes such targets into
    ``folder`` (e.g. while holding the work dir's lock): a temporary file
    being written cannot be told from an abandoned one.

    Args:
        folder (str): Where to look.
        targets (Iterable[str]): ``fnmatch`` patterns of target names.

    Returns:
        list[str]: The paths removed.
    """
    removed = []
    for path in stale_temp_files(folder, targets):
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def atomic_torch_save(obj: Any, path: str) -> None:
    """:func:`torch.save` to ``path`` atomically.

    Args:
        obj (Any): What to save.
        path (str): Destination.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(buffer.getvalue(), path)


def atomic_save_figure(figure: Any, path: str,
                       dpi: Optional[int] = None) -> str:
    """Save a matplotlib figure as a PNG atomically and close it.

    A plot written into the docs or beside a training run is never seen
    half-drawn, and a loop of plots does not pile up open figures.

    Args:
        figure (matplotlib.figure.Figure): The figure.
        path (str): Destination PNG.
        dpi (int, optional): Resolution; matplotlib's default when None.

    Returns:
        str: ``path``.
    """
    import matplotlib.pyplot as plt  # only the plotting tools need it
    png = io.BytesIO()
    figure.savefig(png, format='png', dpi=dpi, bbox_inches='tight')
    plt.close(figure)
    atomic_write(png.getvalue(), path)
    return path
