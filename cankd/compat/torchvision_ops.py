# Copyright (c) cankd contributors. All rights reserved.
"""Keep torchvision's Python side importable when its compiled ops are not.

mmengine resolves ``torchvision://resnet50``-style ``init_cfg`` checkpoints
through ``torchvision.models``, so every mmdet config with a
torchvision-initialised backbone needs torchvision. A torchvision whose
``_C`` library does not load beside the installed torch (PyPI's CUDA wheel
beside a CPU torch, as on CPU machines) fails at import with
``RuntimeError: operator torchvision::nms does not exist``: its meta
registrations look the operators up. Declaring the operators' schemas first
lets the import finish; mmcv and mmdet run their own ops, and calling a
torchvision op still fails loudly (no kernel is registered for it).
"""
import importlib
import importlib.util
import sys
from typing import Dict

import torch

# The operators torchvision's _meta_registrations.py looks up, with the
# schemas its C++ library declares.
TORCHVISION_OP_SCHEMAS: Dict[str, str] = {
    'nms': '(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'qnms': '(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'roi_align':
    '(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, '
    'SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor',
    '_roi_align_backward':
    '(Tensor grad, Tensor rois, float spatial_scale, SymInt pooled_height, '
    'SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, '
    'SymInt width, int sampling_ratio, bool aligned) -> Tensor',
    'qroi_align':
    '(Tensor input, Tensor rois, float input_scale, int input_zero_point, '
    'float rois_scale, int rois_zero_point, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, int sampling_ratio, '
    'bool aligned) -> Tensor',
    'ps_roi_align':
    '(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, '
    'SymInt pooled_width, int sampling_ratio) -> (Tensor, Tensor)',
    '_ps_roi_align_backward':
    '(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, int sampling_ratio, '
    'SymInt batch_size, SymInt channels, SymInt height, SymInt width) '
    '-> Tensor',
    'roi_pool':
    '(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, '
    'SymInt pooled_width) -> (Tensor, Tensor)',
    '_roi_pool_backward':
    '(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, SymInt batch_size, '
    'SymInt channels, SymInt height, SymInt width) -> Tensor',
    'ps_roi_pool':
    '(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, '
    'SymInt pooled_width) -> (Tensor, Tensor)',
    '_ps_roi_pool_backward':
    '(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, '
    'SymInt pooled_height, SymInt pooled_width, SymInt batch_size, '
    'SymInt channels, SymInt height, SymInt width) -> Tensor',
    'deform_conv2d':
    '(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, '
    'SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, '
    'SymInt dilation_h, SymInt dilation_w, SymInt groups, '
    'SymInt offset_groups, bool use_mask) -> Tensor',
    '_deform_conv2d_backward':
    '(Tensor grad, Tensor input, Tensor weight, Tensor offset, Tensor mask, '
    'Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, '
    'SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, '
    'SymInt offset_groups, bool use_mask) '
    '-> (Tensor, Tensor, Tensor, Tensor, Tensor)',
}

# Holds the declarations: a torch.library.Library drops them when collected.
_LIBRARY = None


def _missing_op_error(err: BaseException) -> bool:
    return (isinstance(err, RuntimeError)
            and 'operator torchvision::' in str(err)
            and 'does not exist' in str(err))


def _forget_partial_import() -> None:
    for name in [m for m in sys.modules
                 if m == 'torchvision' or m.startswith('torchvision.')]:
        del sys.modules[name]


def declare_torchvision_ops() -> int:
    """Declare the schemas of torchvision's operators that are not defined.

    Returns:
        int: How many operators were declared.
    """
    global _LIBRARY
    missing = {
        name: schema
        for name, schema in TORCHVISION_OP_SCHEMAS.items()
        if not hasattr(torch.ops.torchvision, name)
    }
    if not missing:
        return 0
    if _LIBRARY is None:
        _LIBRARY = torch.library.Library('torchvision', 'FRAGMENT')
    for name, schema in missing.items():
        _LIBRARY.define(name + schema)
    return len(missing)


def patch_torchvision_ops() -> bool:
    """Import torchvision, declaring its operators first if its compiled
    library does not load.

    Feature-detected and idempotent: nothing happens when torchvision is
    absent, already imported, or imports as it is.

    Returns:
        bool: Whether the operators had to be declared.
    """
    if 'torchvision' in sys.modules or \
            importlib.util.find_spec('torchvision') is None:
        return False
    try:
        importlib.import_module('torchvision')
        return False
    except RuntimeError as err:
        if not _missing_op_error(err):
            raise
    _forget_partial_import()
    declare_torchvision_ops()
    importlib.import_module('torchvision')
    return True


def torchvision_has_ops() -> bool:
    """Whether torchvision's compiled operators are usable."""
    try:
        from torchvision.extension import _has_ops
    except ImportError:
        return False
    return _has_ops()
