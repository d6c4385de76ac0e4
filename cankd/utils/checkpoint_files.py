# Copyright (c) cankd contributors. All rights reserved.
"""What a file given as a checkpoint really is, without unpickling it.

Used to turn the errors :func:`torch.load` raises on a wrong file (an
``IndexError`` for a text file, advice to switch ``weights_only`` off for a
PNG) into a sentence that names the file and what it looks like, and to find
the newest complete checkpoint of a work dir.
"""
import json
import os
import os.path as osp
import re
import zipfile
from typing import Iterable, List, Optional

# torch.save's legacy (non-zip) format starts with a pickled magic number.
_LEGACY_TORCH_PREFIXES = (b'\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8',)
_ZIP_MAGIC = b'PK\x03\x04'
_EMPTY_ZIP_MAGIC = b'PK\x05\x06'
_IMAGE_MAGICS = (
    (b'\x89PNG\r\n\x1a\n', 'a PNG image'),
    (b'\xff\xd8\xff', 'a JPEG image'),
    (b'GIF8', 'a GIF image'),
    (b'BM', 'a BMP image'),
)
_OTHER_MAGICS = (
    (b'\x1f\x8b', 'a gzip archive (extract the checkpoint from it first)'),
    (b'\x93NUMPY', 'a numpy .npy array'),
    (b'\x89HDF', 'an HDF5 file (Keras/TensorFlow weights)'),
)
_HEAD_BYTES = 4096
# Checkpoints CheckpointHook writes with its default filename_tmpl.
_RUNNER_CHECKPOINT = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def describe_file(path: str) -> str:
    """Say what ``path`` looks like, e.g. ``'a PNG image'``.

    Only the start of the file and, for zip archives, its directory are
    read. A complete PyTorch checkpoint is ``'a PyTorch checkpoint'``;
    the CRCs of its content are not checked (see :func:`checkpoint_problem`).

    Args:
        path (str): An existing file.

    Returns:
        str: A noun phrase.
    """
    size = osp.getsize(path)
    if size == 0:
        return 'an empty file (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(_HEAD_BYTES)
    if head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC):
        return _describe_zip(path, size)
    if head.startswith(_LEGACY_TORCH_PREFIXES):
        return 'a PyTorch checkpoint (legacy format)'
    if head.startswith(b'\x80'):
        # torch.save's legacy format with another pickle protocol looks the
        # same: only torch.load can tell.
        return 'a pickle file'
    for magic, kind in _IMAGE_MAGICS + _OTHER_MAGICS:
        if head.startswith(magic):
            return kind
    return _describe_text(path, head, size)


def _describe_zip(path: str, size: int) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        # torch.save writes the zip directory last: a cut-off file has none.
        return (f'a truncated PyTorch checkpoint or zip archive ({size} '
                'bytes, its end is missing)')
    if any(name.endswith('data.pkl') for name in names):
        return 'a PyTorch checkpoint'
    shown = ', '.join(names[:3]) + (', ...' if len(names) > 3 else '')
    return (f'a zip archive that is not a PyTorch checkpoint (it holds '
            f'{shown or "nothing"})')


def _describe_text(path: str, head: bytes, size: int) -> str:
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        return f'a binary file of {size} bytes of unknown format'
    stripped = text.lstrip()
    if stripped.startswith('version https://git-lfs'):
        return 'a Git LFS pointer (run `git lfs pull` to fetch the real file)'
    if stripped[:15].lower().startswith(('<!doctype html', '<html')):
        return 'an HTML page (a download that returned a web page)'
    if stripped.startswith(('{', '[')):
        try:
            with open(path, encoding='utf-8') as f:
                json.load(f)
            return 'a JSON file'
        except (ValueError, UnicodeDecodeError):
            pass
    first_line = stripped.splitlines()[0][:60] if stripped else ''
    return f'a text file (starting with {first_line!r})'


def is_torch_checkpoint(description: str) -> bool:
    """Whether :func:`describe_file` found a complete PyTorch checkpoint."""
    return description.startswith('a PyTorch checkpoint')


def may_be_checkpoint(description: str) -> bool:
    """Whether a file :func:`describe_file` describes so is worth handing to
    :func:`torch.load` (a checkpoint, or a pickle that may be one)."""
    return is_torch_checkpoint(description) or description == 'a pickle file'


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be loaded as a checkpoint, or None if it can.

    Reads the whole file for a zip checkpoint (every member's CRC is
    checked), so a truncated or corrupted file is found without unpickling
    anything.

    Args:
        path (str): The file.

    Returns:
        str | None: ``'does not exist'``, ``'is a PNG image'``, ... or None.
    """
    if not osp.isfile(path):
        return 'does not exist'
    description = describe_file(path)
    if not may_be_checkpoint(description):
        return f'is {description}'
    if not description.endswith('PyTorch checkpoint'):
        # Legacy format or a pickle: no checksums to verify.
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'is a corrupt PyTorch checkpoint ({error})'
    if bad is not None:
        return f'is a corrupt PyTorch checkpoint (CRC error in {bad})'
    return None


def runner_checkpoints(folder: str) -> List[str]:
    """The ``iter_N.pth``/``epoch_N.pth`` files of ``folder``, newest (the
    highest N, then the latest modification) first.

    Args:
        folder (str): A work dir.

    Returns:
        list[str]: Paths.
    """
    if not osp.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = _RUNNER_CHECKPOINT.match(name)
        path = osp.join(folder, name)
        if match and osp.isfile(path):
            found.append((int(match.group(2)), osp.getmtime(path), path))
    return [path for *_, path in sorted(found, reverse=True)]


def newest_good_checkpoint(folder: str,
                           exclude: Iterable[str] = ()) -> Optional[str]:
    """The newest of :func:`runner_checkpoints` that
    :func:`checkpoint_problem` finds nothing wrong with.

    Args:
        folder (str): A work dir.
        exclude (Iterable[str]): Paths not to consider.

    Returns:
        str | None: Its path, or None.
    """
    excluded = {osp.abspath(path) for path in exclude}
    for path in runner_checkpoints(folder):
        if osp.abspath(path) not in excluded and not checkpoint_problem(path):
            return path
    return None
