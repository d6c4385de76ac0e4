# Copyright (c) cankd contributors. All rights reserved.
"""Backbones the paper's pairs need and OpenMMLab lacks, registered in the
registry of the library whose configs use them: ``MobileNetV1`` in
mmpretrain's ``MODELS`` (where mmpretrain is installed)."""
import importlib.util

from .mobilenet_v1 import MobileNetV1

if importlib.util.find_spec('mmpretrain') is not None:
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
    MMPRETRAIN_MODELS.register_module(module=MobileNetV1)

__all__ = ['MobileNetV1']
