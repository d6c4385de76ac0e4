# Copyright (c) cankd contributors. All rights reserved.
"""Refuse to load a distillation checkpoint into a plain model.

mmengine loads weights with ``strict=False``: a distillation checkpoint
(student under ``architecture.``, teacher under ``teacher.``) given to the
plain student config matches no key, logs a key-mismatch warning and leaves
every weight random, so ``tools/test.py`` or ``DetInferencer`` then report
the metrics and predictions of an untrained model. cankd makes that load an
error naming the converter and the command to run. The reverse, a plain
(converted) student checkpoint given to the distillation config, also
matches no key (the algorithm's student is under ``architecture.``) and is
refused the same way.

The check sits in ``mmengine.runner.checkpoint.load_state_dict``, which every
mmengine path ends in: ``load_checkpoint``, ``Runner.load_checkpoint``
(``load_from``, ``tools/test.py``), the inferencers, ``Pretrained`` init and
mmdeploy. A model that has an ``architecture`` (an MMRazor algorithm
resuming or evaluating its own checkpoint) loads as before.
"""
import weakref
from collections import OrderedDict
from typing import Any, Optional, Tuple

from ..utils.student_checkpoint import (STUDENT_PREFIX, converter_command,
                                        is_distillation_state_dict,
                                        student_checkpoint_path)

_MARK = '__cankd_distillation_guard__'
# The files the latest checkpoints were read from, keyed by
# the id of one of their tensors (the tensors, not the dicts, survive
# mmengine's key rewriting), to name the file in the error.
_SOURCES: 'OrderedDict[int, Tuple[weakref.ref, str]]' = OrderedDict()
_MAX_SOURCES = 8


class DistillationCheckpointError(RuntimeError):
    """A distillation checkpoint was loaded into a plain model."""


class StudentCheckpointError(DistillationCheckpointError):
    """A plain model checkpoint was loaded into a distillation algorithm
    (a subclass, so that whoever reports the one reports the other)."""


def note_checkpoint_source(checkpoint: Any, filename: str) -> None:
    """Remember that ``checkpoint`` was read from ``filename``.

    Remembered weakly, the latest few, to name the file if it is loaded
    into the wrong kind of model.

    Args:
        checkpoint (Any): What the checkpoint file held.
        filename (str): Its path.
    """
    tensor = _first_tensor(checkpoint)
    if tensor is None:
        return
    _SOURCES[id(tensor)] = (weakref.ref(tensor), filename)
    while len(_SOURCES) > _MAX_SOURCES:
        _SOURCES.popitem(last=False)


def _state_dict(checkpoint: Any) -> dict:
    if isinstance(checkpoint, dict):
        return checkpoint.get('state_dict', checkpoint)
    return {}


def _first_tensor(checkpoint: Any):
    import torch
    for value in _state_dict(checkpoint).values():
        if isinstance(value, torch.Tensor):
            return value
    return None


def _source_of(state_dict: dict) -> Optional[str]:
    tensor = _first_tensor(state_dict)
    if tensor is None or id(tensor) not in _SOURCES:
        return None
    ref, filename = _SOURCES[id(tensor)]
    return filename if ref() is tensor else None


def _unwrap(module):
    from mmengine.model import is_model_wrapper
    while is_model_wrapper(module):
        module = module.module
    return module


def check_not_distillation_checkpoint(module, state_dict: dict) -> None:
    """Raise if ``state_dict`` is a distillation checkpoint's and ``module``
    is not a distillation algorithm.

    Args:
        module (nn.Module): The model receiving the weights.
        state_dict (dict): The weights.

    Raises:
        DistillationCheckpointError: The weights are under ``architecture.``
            and ``module`` has no ``architecture``.
    """
    if not is_distillation_state_dict(state_dict):
        return
    if is_distillation_state_dict(_unwrap(module).state_dict(keep_vars=True)):
        return
    filename = _source_of(state_dict)
    groups = sorted({key.split('.', 1)[0] for key in state_dict})
    what = f'{filename} is' if filename else 'These weights are'
    checkpoint = filename or 'CHECKPOINT'
    raise DistillationCheckpointError(
        f'{what} a distillation checkpoint (weights under '
        f'{", ".join(g + ".*" for g in groups)}), loaded into a plain '
        f'{type(_unwrap(module)).__name__}: no weight would match, and the '
        'model would predict from random weights. Keep its student '
        f'({STUDENT_PREFIX}*) with the converter:\n'
        f'    {converter_command(checkpoint)}\n'
        f'and load {student_checkpoint_path(checkpoint)} instead (it also '
        'carries the student\'s config and needs no `import cankd`). To '
        'evaluate the distillation checkpoint itself, use its distillation '
        'config.')


def check_not_student_checkpoint(module, state_dict: dict) -> None:
    """Raise if ``module`` is a distillation algorithm and ``state_dict``
    a plain model's that would load into its student alone.

    Args:
        module (nn.Module): The model receiving the weights.
        state_dict (dict): The weights.

    Raises:
        StudentCheckpointError: No key of ``state_dict`` is one of
            ``module``'s, and some key is one once prefixed with
            ``architecture.``.
    """
    if not state_dict or is_distillation_state_dict(state_dict):
        return
    own = _unwrap(module).state_dict(keep_vars=True)
    if not is_distillation_state_dict(own) or any(k in own
                                                  for k in state_dict):
        return
    if not any(STUDENT_PREFIX + key in own for key in state_dict):
        return
    filename = _source_of(state_dict)
    what = f'{filename} is' if filename else 'These weights are'
    raise StudentCheckpointError(
        f'{what} a plain model checkpoint (a converted student?), loaded '
        f'into the distillation algorithm {type(_unwrap(module)).__name__}, '
        f'whose student is under {STUDENT_PREFIX}*: no weight would match, '
        'and the model would predict from random weights. Evaluate it with '
        "the student's plain config (tools/test.py STUDENT_CONFIG "
        f"{filename or 'CHECKPOINT'}; a converted checkpoint carries that "
        "config in meta['cfg']), or give the distillation config its "
        'distillation checkpoint.')


def patch_distillation_checkpoint_guard() -> bool:
    """Make mmengine's ``load_state_dict`` refuse distillation checkpoints
    for plain models (see the module docstring).

    Idempotent; a no-op if mmengine has no ``load_state_dict`` there.

    Returns:
        bool: Whether this call applied the patch.
    """
    from mmengine.runner import checkpoint as mmengine_checkpoint
    original = getattr(mmengine_checkpoint, 'load_state_dict', None)
    if original is None or getattr(original, _MARK, False):
        return False

    def load_state_dict(module, state_dict, strict=False, logger=None):
        check_not_distillation_checkpoint(module, state_dict)
        check_not_student_checkpoint(module, state_dict)
        return original(module, state_dict, strict, logger)

    load_state_dict.__doc__ = original.__doc__
    setattr(load_state_dict, _MARK, True)
    mmengine_checkpoint.load_state_dict = load_state_dict
    # mmengine.runner re-exports it for users' scripts.
    import mmengine.runner
    if getattr(mmengine.runner, 'load_state_dict', None) is original:
        mmengine.runner.load_state_dict = load_state_dict
    return True
