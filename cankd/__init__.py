# Copyright (c) cankd contributors. All rights reserved.
"""CanKD (Cross-Attention-based Non-local Knowledge Distillation) for MMRazor.

Importing ``cankd`` first applies the compatibility shims (before anything
imports ``mmrazor.models``), then registers cankd's modules in MMRazor's
registries. Where the OpenMMLab stack is not installed, ``cankd.nn`` (the
loss with torch alone) is all there is, and nothing else is imported.
"""
import importlib.util

from .version import __version__


def openmmlab_installed() -> bool:
    """Whether the stack the MMRazor plugin needs is installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ('mmengine', 'mmcv', 'mmrazor'))


if openmmlab_installed():
    from . import compat

    compat.apply_all()

    # Registration needs mmrazor.models, hence after the shims.
    from . import engine, models  # noqa: E402

    __all__ = ['__version__', 'compat', 'engine', 'models', 'nn']
else:
    __all__ = ['__version__', 'nn']

from . import nn  # noqa: E402
