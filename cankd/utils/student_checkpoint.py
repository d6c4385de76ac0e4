# Copyright (c) cankd contributors. All rights reserved.
"""Turn a distillation checkpoint into a plain student checkpoint.

The result holds the student's weights (``architecture.`` removed) and a
``meta`` whose ``cfg`` is the student's own config
(:func:`cankd.utils.student_config.student_config`), so that mmdet's and
mmseg's inferencers, ``tools/test.py`` and mmdeploy use it like any model-zoo
checkpoint, without cankd.
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import (Any, Dict, Iterable, List, Mapping, NamedTuple,
                    Optional)

# Where MMRazor's distillation algorithms keep their parts.
STUDENT_PREFIX = 'architecture.'
TEACHER_PREFIX = 'teacher.'
DISTILLATION_PREFIXES = (STUDENT_PREFIX, TEACHER_PREFIX, 'distiller.')
CONVERTER = 'tools/model_converters/convert_kd_ckpt_to_student.py'


class StudentCheckpoint(NamedTuple):
    """The student checkpoint and what was dropped to make it.

    Attributes:
        checkpoint (dict): ``state_dict`` (prefix removed) and ``meta``.
        kept (int): Number of student tensors kept.
        dropped (Dict[str, int]): Tensors dropped, counted by the first
            component of their name (``teacher``, ``distiller``, ...).
        dropped_entries (List[str]): Top-level checkpoint entries dropped
            (``optimizer``, ``message_hub``, ...).
    """
    checkpoint: dict
    kept: int
    dropped: Dict[str, int]
    dropped_entries: List[str]


def weights_under(checkpoint: Mapping[str, Any],
                  prefix: str) -> 'OrderedDict[str, Any]':
    """The weights of one part of a distillation checkpoint.

    Args:
        checkpoint (Mapping[str, Any]): A checkpoint (with a ``state_dict``)
            or a state dict.
        prefix (str): The part, e.g. :data:`STUDENT_PREFIX` or
            :data:`TEACHER_PREFIX`.

    Returns:
        OrderedDict[str, Any]: The tensors whose names start with
        ``prefix``, the prefix removed; empty if there are none.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    return OrderedDict((name[len(prefix):], tensor)
                       for name, tensor in state_dict.items()
                       if name.startswith(prefix))


def is_distillation_state_dict(keys: Iterable[str]) -> bool:
    """Whether weight names are those of a distillation algorithm.

    Args:
        keys (Iterable[str]): ``state_dict`` keys.

    Returns:
        bool: Some key starts with ``architecture.`` (the student).
    """
    return any(key.startswith(STUDENT_PREFIX) for key in keys)


def student_checkpoint_path(checkpoint: str,
                            out_path: Optional[str] = None,
                            inplace: bool = False) -> str:
    """Where the converter writes the student checkpoint.

    MMRazor's converter takes ``--out-path`` as a folder and writes
    ``<folder>/<stem>_student.pth``; cankd also takes a ``.pth`` file.

    Args:
        checkpoint (str): The distillation checkpoint.
        out_path (str, optional): A folder (existing, or ending in ``/``;
            created if missing), or a file ending in ``.pth``. ``None``:
            beside ``checkpoint``.
        inplace (bool): Replace ``checkpoint`` itself.

    Returns:
        str: The path of the student checkpoint.
    """
    if inplace:
        return checkpoint
    name = osp.splitext(osp.basename(checkpoint))[0] + '_student.pth'
    if out_path is None:
        return osp.join(osp.dirname(checkpoint), name)
    if (out_path.endswith(('/', os.sep)) or osp.isdir(out_path)
            or not out_path.endswith('.pth')):
        return osp.join(out_path, name)
    return out_path


def converter_command(checkpoint: str = 'CHECKPOINT') -> str:
    """The command that converts ``checkpoint``, as a user types it.

    Args:
        checkpoint (str): The distillation checkpoint.

    Returns:
        str: The converter's command line; it writes
        :func:`student_checkpoint_path` ``(checkpoint)``, beside the input.
    """
    return f'python {CONVERTER} {checkpoint}'


def extract_student(checkpoint: Any) -> StudentCheckpoint:
    """Keep the student (``architecture.*``) weights and a student ``meta``.

    Args:
        checkpoint (dict): A checkpoint of a MMRazor distillation algorithm,
            with a ``state_dict`` whose student keys start with
            ``architecture.``. If its ``meta`` has the distillation config
            (``cfg``, as mmengine's Runner saves it), the student's own
            config replaces it.

    Returns:
        StudentCheckpoint: The student checkpoint and a summary.

    Raises:
        ValueError: The checkpoint is not a distillation checkpoint, or its
            student is empty; the message says what the file holds.
    """
    if not isinstance(checkpoint, dict):
        raise ValueError(f'This file is not a checkpoint dict: it holds a '
                         f'{type(checkpoint).__name__}.')
    student = weights_under(checkpoint, STUDENT_PREFIX)
    dropped: Dict[str, int] = {}
    for name in checkpoint.get('state_dict', checkpoint):
        if not name.startswith(STUDENT_PREFIX):
            group = name.split('.', 1)[0]
            dropped[group] = dropped.get(group, 0) + 1
    if not student:
        raise ValueError(_no_student_message(dropped))
    converted: Dict[str, Any] = dict(state_dict=student)
    if 'meta' in checkpoint:
        converted['meta'] = student_meta(checkpoint['meta'])
    entries = sorted(k for k in checkpoint if k not in ('state_dict', 'meta'))
    return StudentCheckpoint(converted, len(student), dropped,
                             entries if 'state_dict' in checkpoint else [])


def student_meta(meta: dict) -> dict:
    """``meta`` of the distillation checkpoint, made the student's.

    ``cfg`` (the distillation config's text) becomes the student's config
    text; values that ``torch.load(weights_only=True)`` cannot read without
    cankd's allow-list (numpy scalars) become Python numbers.

    Args:
        meta (dict): ``meta`` of a distillation checkpoint.

    Returns:
        dict: The student checkpoint's ``meta``.
    """
    meta = {key: _plain(value) for key, value in meta.items()}
    if isinstance(meta.get('cfg'), str):
        from mmengine.config import Config

        from .student_config import student_config
        distill_cfg = Config.fromstring(meta['cfg'], file_format='.py')
        meta['cfg'] = student_config(distill_cfg).pretty_text
    return meta


def _plain(value: Any) -> Any:
    """Containers rebuilt, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if type(value).__module__ == 'numpy' and hasattr(value, 'item'):
        return value.item() if getattr(value, 'ndim', 0) == 0 else \
            value.tolist()
    return value


def _no_student_message(groups: Dict[str, int]) -> str:
    found = ', '.join(sorted(groups)) or 'nothing'
    head = ('This checkpoint holds no student weights (no key starts with '
            f'{STUDENT_PREFIX!r}; found {found}): ')
    if not groups:
        return head + 'it holds no weights at all.'
    if set(groups) & {p.rstrip('.') for p in DISTILLATION_PREFIXES}:
        return head + ('it is a distillation checkpoint whose student is '
                       'empty; nothing can be converted.')
    return head + ('it is a plain model checkpoint, which needs no '
                   'conversion: load it with its own model config. Convert '
                   'the checkpoint of a distillation run (FpnTeacherDistill '
                   '/ SingleTeacherDistill) instead.')
