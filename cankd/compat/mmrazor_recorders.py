# Copyright (c) cankd contributors. All rights reserved.
"""Two mendings of MMRazor's feature recording.

1. ``BaseAlgorithm.set_module_inplace_false`` is meant to switch every
   ``inplace`` module of student and teacher off, so that an in-place
   activation after a recorded module cannot alter the recorded output. It
   walks ``module._modules`` expecting an ``OrderedDict``; since torch 2.0
   that is a plain ``dict``, so it silently does nothing (MMRazor's own
   ``test_set_module_inplace_false`` fails). The replacement walks
   ``named_modules()``; in-place or not, the values are the same.
2. A ``ModuleOutputs`` recorder whose ``source`` is not a module fails with
   a bare ``AssertionError: "neck.fpn" is not in the model.``; the
   replacement names the closest module names.
"""
import difflib
from collections import OrderedDict

from torch import nn

_MARK = '__cankd_recorders__'


def set_module_inplace_false(self, architecture: nn.Module,
                             varstr: str = '') -> None:
    """Switch off ``inplace`` on every module of ``architecture`` that has
    it (``varstr`` is kept for MMRazor's signature)."""
    for module in architecture.modules():
        if isinstance(getattr(module, 'inplace', None), bool):
            module.inplace = False


def _prepare_from_model(original):

    def prepare_from_model(self, model: nn.Module = None) -> None:
        if model is not None:
            names = [name for name, _ in model.named_modules() if name]
            if self.source not in names:
                close = difflib.get_close_matches(
                    str(self.source), names, n=5, cutoff=0.5)
                raise ValueError(
                    f"ModuleOutputs recorder source '{self.source}' is not a "
                    f'module of {type(model).__name__}. Closest module '
                    f"names: {', '.join(close) or '(none)'}. "
                    'tools/analysis/check_config.py CONFIG --list-modules '
                    'lists the candidates with their shapes and strides.')
        return original(self, model)

    setattr(prepare_from_model, _MARK, True)
    return prepare_from_model


def patch_mmrazor_recorders() -> bool:
    """Apply both mendings. Idempotent.

    Returns:
        bool: Whether this call applied them.
    """
    from mmrazor.models.algorithms.base import BaseAlgorithm
    from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
    if getattr(ModuleOutputsRecorder.prepare_from_model, _MARK, False):
        return False
    ModuleOutputsRecorder.prepare_from_model = _prepare_from_model(
        ModuleOutputsRecorder.prepare_from_model)
    # Only where the original cannot walk torch's module dicts.
    if not isinstance(nn.Module()._modules, OrderedDict):
        BaseAlgorithm.set_module_inplace_false = set_module_inplace_false
    return True
