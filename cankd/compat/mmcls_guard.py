# Copyright (c) cankd contributors. All rights reserved.
"""Refuse, with the fix, an installed mmcls that would break mmrazor.

mmcls 1.0.0rc6 (the last mmcls) asserts ``mmcv < 2.1.0`` when imported.
mmrazor imports mmcls inside ``try/except ImportError``, which does not
catch an ``AssertionError``: with mmcls installed beside mmcv 2.1.0,
``import mmrazor.models`` fails, and with it detection and segmentation
distillation, far from the cause. cankd's classification configs use
mmpretrain (mmcls' successor), so mmcls is never needed.
"""
import importlib
import importlib.util


class IncompatibleMMClsError(ImportError):
    """mmcls is installed and cannot be imported beside this mmcv."""


def check_mmcls() -> None:
    """Raise :class:`IncompatibleMMClsError` when mmcls is installed and its
    import fails on its mmcv version check; do nothing when mmcls is absent
    or imports.

    Raises:
        IncompatibleMMClsError: Naming the installed mmcls, its error, and
            the command that fixes the environment.
    """
    if importlib.util.find_spec('mmcls') is None:
        return
    try:
        importlib.import_module('mmcls')
    except AssertionError as error:
        raise IncompatibleMMClsError(
            f'mmcls is installed and fails to import here ({error}). '
            'mmrazor imports it and would fail too, breaking every '
            'distillation. cankd needs no mmcls: its classification configs '
            'use mmpretrain. Fix: pip uninstall -y mmcls '
            '(and pip install mmpretrain==1.2.0 for classification).'
        ) from error
