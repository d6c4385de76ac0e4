# Copyright (c) cankd contributors. All rights reserved.
"""CanKD (Cross-Attention-based Non-local Knowledge Distillation) for MMRazor.

Importing ``cankd`` first applies the compatibility shims (before anything
imports ``mmrazor.models``), then registers cankd's modules in MMRazor's
registries.
"""
from .version import __version__
from . import compat

compat.apply_all()

# Registration needs mmrazor.models, hence after the shims.
from . import engine, models  # noqa: E402

__all__ = ['__version__', 'compat', 'engine', 'models']
