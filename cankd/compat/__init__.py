# Copyright (c) cankd contributors. All rights reserved.
"""Shims that let MMRazor 1.0 run on current torch. Each one detects whether
it is needed, is idempotent, and is applied by ``import cankd``."""
from .atomic_checkpoint import patch_atomic_checkpoint_writes
from .cfg_path_overrides import patch_cfg_path_overrides
from .checkpoint_hook import patch_checkpoint_hook
from .checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                         allow_checkpoint_globals, load_checkpoint_file,
                         mmengine_safe_globals, patch_checkpoint_loading)
from .mmcls_guard import IncompatibleMMClsError, check_mmcls
from .mmrazor_recorders import patch_mmrazor_recorders
from .distillation_checkpoint import (DistillationCheckpointError,
                                      StudentCheckpointError,
                                      patch_distillation_checkpoint_guard)
from .mmrazor_quantization import (MMRazorQuantizationUnavailable,
                                   is_stubbed, patch_mmrazor_quantization)
from .resume import patch_resume_lookup
from .torchvision_ops import patch_torchvision_ops, torchvision_has_ops


def apply_all() -> None:
    """Apply every shim that this environment needs."""
    # Before anything imports mmrazor, which would fail on it obscurely.
    check_mmcls()
    # First: mmdet and mmengine import torchvision, which must not fail.
    patch_torchvision_ops()
    patch_mmrazor_quantization()
    patch_cfg_path_overrides()
    patch_mmrazor_recorders()
    patch_checkpoint_loading()
    patch_atomic_checkpoint_writes()
    patch_checkpoint_hook()
    patch_resume_lookup()
    patch_distillation_checkpoint_guard()


__all__ = [
    'apply_all', 'check_mmcls', 'IncompatibleMMClsError',
    'patch_atomic_checkpoint_writes', 'patch_cfg_path_overrides',
    'patch_torchvision_ops', 'torchvision_has_ops', 'patch_mmrazor_recorders',
    'patch_checkpoint_hook', 'patch_resume_lookup',
    'patch_distillation_checkpoint_guard', 'DistillationCheckpointError',
    'StudentCheckpointError', 'patch_mmrazor_quantization', 'is_stubbed',
    'MMRazorQuantizationUnavailable', 'patch_checkpoint_loading',
    'load_checkpoint_file', 'allow_checkpoint_globals',
    'mmengine_safe_globals', 'UnsafeCheckpointError', 'CorruptCheckpointError',
    'patch_distillation_checkpoint_guard', 'DistillationCheckpointError'
]
