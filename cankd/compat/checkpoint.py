# Copyright (c) cankd contributors. All rights reserved.
"""Checkpoint loading with ``weights_only=True`` that still reads mmengine's
own checkpoints.

Since torch 2.6, :func:`torch.load` refuses every pickled global outside an
allow-list. A checkpoint written by mmengine's Runner holds a few harmless
ones (its ``HistoryBuffer`` and the numpy types behind logged scalars), so
resume, ``load_from`` and local teacher checkpoints fail. cankd allow-lists
exactly those globals and keeps the check on: a checkpoint holding anything
else is refused with :class:`UnsafeCheckpointError`.

mmengine also pickles every ``HistoryBuffer``'s statistics methods, which
needs ``builtins.getattr`` to unpickle; allowing that would let a crafted file
reach any attribute of an allowed class. Those methods live in a class-level
registry that importing mmengine (or the code that registers a custom one)
restores, so cankd stops writing them instead.
"""
import importlib
import os.path as osp
import pickle
import re
from typing import Any, Iterable, List, Optional, Tuple

import torch

from ..utils.checkpoint_files import (checkpoint_problem, describe_file,
                                      may_be_checkpoint,
                                      newest_good_checkpoint)

# (where the object lives now, the names it may be pickled under). numpy 2
# moved ``numpy.core`` to ``numpy._core``; checkpoints from either remain
# readable.
_MMENGINE_GLOBALS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ('mmengine.logging.history_buffer.HistoryBuffer', ()),
    ('numpy.dtype', ()),
    ('numpy.ndarray', ()),
    ('numpy._core.multiarray._reconstruct',
     ('numpy.core.multiarray._reconstruct', )),
    ('numpy._core.multiarray.scalar', ('numpy.core.multiarray.scalar', )),
)
# numpy >= 1.25 pickles dtypes by their class, e.g. numpy.dtypes.Float64DType.
_NUMPY_DTYPE_MODULE = 'numpy.dtypes'

_applied = False


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds globals that cankd does not load by default."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file cannot be read."""


def _resolve(path: str) -> Optional[Any]:
    for candidate in (path, path.replace('numpy._core', 'numpy.core')):
        module, _, name = candidate.rpartition('.')
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


def mmengine_safe_globals() -> List[Any]:
    """The globals mmengine checkpoints need, in ``add_safe_globals`` form.

    Returns:
        list: Objects, or ``(object, pickled_name)`` pairs for objects whose
        pickled name differs from where they live in the installed numpy.
    """
    safe: List[Any] = []
    for path, aliases in _MMENGINE_GLOBALS:
        obj = _resolve(path)
        if obj is None:
            continue
        safe.append(obj)
        safe.extend((obj, alias) for alias in (path, *aliases)
                    if alias != f'{obj.__module__}.{obj.__qualname__}')
    try:
        dtypes = importlib.import_module(_NUMPY_DTYPE_MODULE)
    except ImportError:
        return safe
    safe.extend(
        getattr(dtypes, name) for name in dir(dtypes)
        if name.endswith('DType') and isinstance(getattr(dtypes, name), type))
    return safe


def allow_checkpoint_globals(objects: Iterable[Any]) -> None:
    """Trust more globals when loading checkpoints (for files you trust).

    Args:
        objects (Iterable): Classes or functions, or ``(object, name)``
            pairs, as :func:`torch.serialization.add_safe_globals` takes.
    """
    torch.serialization.add_safe_globals(list(objects))


def load_checkpoint_file(filename: str,
                         map_location: Any = None) -> Any:
    """Load a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint.
        map_location (Any): As in :func:`torch.load`.

    Returns:
        Any: The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file holds globals outside the allow-list.
        CorruptCheckpointError: The file is not a loadable checkpoint: the
            message says what it is (text, an image, JSON, a cut-off zip...),
            and for a damaged one, the newest complete checkpoint beside it.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'Checkpoint {filename} does not exist. Check the path given to '
            'teacher_ckpt, load_from, --resume or --checkpoint.')
    # A text file, an image or a cut-off download makes torch.load fail with
    # IndexError, KeyError or advice to turn weights_only off: say instead
    # what the file is.
    description = describe_file(filename)
    if not may_be_checkpoint(description):
        raise _bad_file_error(filename, f'is {description}')
    try:
        checkpoint = torch.load(filename, map_location=map_location,
                                weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = _unsafe_globals(filename)
        if unsafe == ['builtins.getattr']:
            raise UnsafeCheckpointError(
                f'Refusing to load {filename}: it was saved by mmengine '
                'without cankd, whose HistoryBuffer pickles methods through '
                'builtins.getattr, and allowing getattr lets a crafted file '
                'reach arbitrary code. Only if you trust this file, call '
                'cankd.compat.allow_checkpoint_globals([getattr]) before '
                'loading it; checkpoints written with cankd imported never '
                'need this.') from error
        if unsafe:
            raise UnsafeCheckpointError(
                f'Refusing to load {filename}: it holds globals outside '
                f'the allow-list of safe checkpoint contents: '
                f'{", ".join(unsafe)}. Loading them could run arbitrary code. '
                'If you trust this file, allow them with '
                'cankd.compat.allow_checkpoint_globals([...]) before '
                'loading.') from error
        problem = checkpoint_problem(filename) or (
            f'is {description} that cannot be unpickled '
            f'({_torch_reason(error)})')
        # from None: torch's message advises turning weights_only off.
        raise _bad_file_error(filename, problem) from None
    except Exception as error:
        problem = checkpoint_problem(filename)
        if problem is None and description == 'a pickle file':
            problem = (f'is {description} that torch.load cannot read '
                       f'({_torch_reason(error)})')
        if problem is None:
            # The file is sound: the error is about something else (e.g. a
            # map_location this machine cannot honour).
            raise
        raise _bad_file_error(filename, problem) from None
    # Lets the distillation-checkpoint guard name this file in its error.
    from .distillation_checkpoint import note_checkpoint_source
    note_checkpoint_source(checkpoint, filename)
    return checkpoint


def _torch_reason(error: Exception) -> str:
    """The gist of a torch.load error, without torch's advice to turn
    ``weights_only`` off (unsafe, and wrong for a file that is no
    checkpoint)."""
    text = str(error)
    match = re.search(r'WeightsUnpickler error:\s*([^\n]+)', text)
    if match:
        return match.group(1).strip()
    lines = text.strip().splitlines()
    if not lines or 'weights_only' in lines[0]:
        return type(error).__name__
    return lines[0]


def _bad_file_error(filename: str, problem: str) -> CorruptCheckpointError:
    """The error for a file that is not a loadable checkpoint: what it is,
    and what to do."""
    if problem.startswith(('is a truncated', 'is a corrupt')):
        fix = ('It was cut off or damaged (an interrupted download, copy or '
               'save): download or save it again.')
        good = newest_good_checkpoint(
            osp.dirname(osp.abspath(filename)), exclude=[filename])
        if good is not None:
            fix += (f' The newest complete checkpoint beside it is {good}: '
                    f'e.g. --resume {good}.')
    else:
        fix = ('Give teacher_ckpt, load_from, --resume or --checkpoint the '
               '.pth file written by torch.save or by the training Runner.')
    return CorruptCheckpointError(
        f'Checkpoint {filename} cannot be loaded: it {problem}. {fix}')


def _unsafe_globals(filename: str) -> List[str]:
    get_globals = getattr(torch.serialization,
                          'get_unsafe_globals_in_checkpoint', None)
    if get_globals is None:
        return []
    try:
        found = get_globals(filename)
    except Exception:  # noqa: BLE001 - not a zip checkpoint: cannot tell
        return []
    allowed = set(_allowed_names())
    return sorted(name for name in found if name not in allowed)


def _allowed_names() -> Iterable[str]:
    for entry in torch.serialization.get_safe_globals():
        if isinstance(entry, tuple):
            yield entry[1]
        else:
            yield f'{entry.__module__}.{entry.__qualname__}'


def _history_buffer_getstate(self) -> dict:
    """``HistoryBuffer`` state without its class-level statistics methods."""
    return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}


def _patch_history_buffer_pickling() -> None:
    from mmengine.logging import HistoryBuffer
    if 'statistics_methods' in HistoryBuffer().__getstate__():
        HistoryBuffer.__getstate__ = _history_buffer_getstate


def patch_checkpoint_loading() -> bool:
    """Allow-list mmengine's globals and route local checkpoint loads
    through :func:`load_checkpoint_file`.

    Idempotent; a no-op on torch without ``add_safe_globals`` (< 2.4), where
    ``weights_only`` has no allow-list to extend.

    Returns:
        bool: Whether this call applied the patch.
    """
    global _applied
    if _applied or not hasattr(torch.serialization, 'add_safe_globals'):
        return False
    allow_checkpoint_globals(mmengine_safe_globals())
    _patch_history_buffer_pickling()
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)
    _applied = True
    return True
