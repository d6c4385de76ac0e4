# Copyright (c) cankd contributors. All rights reserved.
"""Turn a distillation checkpoint into a plain student checkpoint."""
from collections import OrderedDict
from typing import Dict, List, NamedTuple

STUDENT_PREFIX = 'architecture.'


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


def extract_student(checkpoint: dict) -> StudentCheckpoint:
    """Keep the student (``architecture.*``) weights and the ``meta``.

    Args:
        checkpoint (dict): A checkpoint of a MMRazor distillation algorithm,
            with a ``state_dict`` whose student keys start with
            ``architecture.``.

    Returns:
        StudentCheckpoint: The student checkpoint and a summary.

    Raises:
        ValueError: The checkpoint holds no student weights.
    """
    if not isinstance(checkpoint, dict):
        raise ValueError(f'Expected a checkpoint dict, got '
                         f'{type(checkpoint).__name__}.')
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = OrderedDict()
    dropped: Dict[str, int] = {}
    for name, tensor in state_dict.items():
        if name.startswith(STUDENT_PREFIX):
            student[name[len(STUDENT_PREFIX):]] = tensor
        else:
            group = name.split('.', 1)[0]
            dropped[group] = dropped.get(group, 0) + 1
    if not student:
        found = ', '.join(sorted(dropped)) or 'nothing'
        raise ValueError(
            'This checkpoint holds no student weights (no key starts with '
            f'{STUDENT_PREFIX!r}; found {found}). Convert the checkpoint of a '
            'distillation run (FpnTeacherDistill / SingleTeacherDistill); a '
            'plain model checkpoint needs no conversion.')
    converted = dict(state_dict=student)
    if 'meta' in checkpoint:
        converted['meta'] = checkpoint['meta']
    entries = sorted(k for k in checkpoint if k not in ('state_dict', 'meta'))
    return StudentCheckpoint(converted, len(student), dropped,
                             entries if 'state_dict' in checkpoint else [])
