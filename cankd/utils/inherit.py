# Copyright (c) cankd contributors. All rights reserved.
"""The "inheriting" strategy (CanKD†): the student's neck and heads start
from the teacher's weights.

Unlike a ``strict=False`` checkpoint load, every skipped tensor is reported,
and a module that inherits nothing is an error: a silent no-op would make a
"†" run a plain run under a misleading name.
"""
from typing import Dict, List, NamedTuple, Sequence, Tuple

import torch
from torch import nn


class InheritReport(NamedTuple):
    """What one student module inherited.

    Attributes:
        module (str): Module name, e.g. ``'neck'``.
        loaded (int): Tensors copied from the teacher.
        total (int): Tensors of the student module.
        mismatched (List[Tuple[str, tuple, tuple]]): ``(name, student shape,
            teacher shape)`` of tensors skipped for their shape.
        missing (List[str]): Student tensors the teacher module lacks.
    """
    module: str
    loaded: int
    total: int
    mismatched: List[Tuple[str, tuple, tuple]]
    missing: List[str]

    def summary(self) -> str:
        text = f'{self.module}: inherited {self.loaded}/{self.total} tensors'
        if self.mismatched:
            text += '; skipped for shape mismatch: ' + ', '.join(
                f'{name} {tuple(s)} vs teacher {tuple(t)}'
                for name, s, t in self.mismatched)
        if self.missing:
            text += '; not in the teacher: ' + ', '.join(self.missing)
        return text


@torch.no_grad()
def inherit_module(student: nn.Module, teacher: nn.Module,
                   name: str) -> InheritReport:
    """Copy the teacher's ``name`` module into the student's, tensor by
    tensor where names and shapes match.

    Args:
        student (nn.Module): The student model.
        teacher (nn.Module): The teacher model, weights loaded.
        name (str): Dotted module name in both, e.g. ``'bbox_head'``.

    Returns:
        InheritReport: What was copied and what was skipped.

    Raises:
        ValueError: One of the models has no such module, or no tensor could
            be copied.
    """
    modules = dict(student=student, teacher=teacher)
    for side, model in modules.items():
        try:
            model.get_submodule(name)
        except AttributeError:
            children = ', '.join(n for n, _ in model.named_children())
            raise ValueError(
                f'Cannot inherit {name!r}: the {side} has no such module '
                f'(its top-level modules: {children}).') from None
    source: Dict[str, torch.Tensor] = teacher.get_submodule(
        name).state_dict()
    target = student.get_submodule(name).state_dict()
    loaded, mismatched, missing = 0, [], []
    for key, tensor in target.items():
        if key not in source:
            missing.append(key)
        elif source[key].shape != tensor.shape:
            mismatched.append((key, tuple(tensor.shape),
                               tuple(source[key].shape)))
        else:
            tensor.copy_(source[key])
            loaded += 1
    report = InheritReport(name, loaded, len(target), mismatched, missing)
    if loaded == 0:
        raise ValueError(
            f'Inheriting {name!r} from the teacher loaded no tensor: '
            f'{report.summary()}. Teacher and student {name} differ in '
            'structure; remove it from the inherited modules.')
    return report


def inherit_from_teacher(student: nn.Module, teacher: nn.Module,
                         modules: Sequence[str]) -> List[InheritReport]:
    """Apply :func:`inherit_module` to each of ``modules``."""
    return [inherit_module(student, teacher, name) for name in modules]
