# Copyright (c) cankd contributors. All rights reserved.
"""Shims that let MMRazor 1.0 run on current torch. Each one detects whether
it is needed, is idempotent, and is applied by ``import cankd``."""
from .atomic_checkpoint import patch_atomic_checkpoint_writes
from .checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                         allow_checkpoint_globals, load_checkpoint_file,
                         mmengine_safe_globals, patch_checkpoint_loading)
from .distillation_checkpoint import (DistillationCheckpointError,
                                      patch_distillation_checkpoint_guard)
from .mmrazor_quantization import (MMRazorQuantizationUnavailable,
                                   is_stubbed, patch_mmrazor_quantization)


def apply_all() -> None:
    """Apply every shim that this environment needs."""
    patch_mmrazor_quantization()
    patch_checkpoint_loading()
    patch_atomic_checkpoint_writes()
    patch_distillation_checkpoint_guard()


__all__ = [
    'apply_all', 'patch_atomic_checkpoint_writes',
    'patch_mmrazor_quantization', 'is_stubbed',
    'MMRazorQuantizationUnavailable', 'patch_checkpoint_loading',
    'load_checkpoint_file', 'allow_checkpoint_globals',
    'mmengine_safe_globals', 'UnsafeCheckpointError', 'CorruptCheckpointError',
    'patch_distillation_checkpoint_guard', 'DistillationCheckpointError'
]
