# Copyright (c) cankd contributors. All rights reserved.
"""Let ``import mmrazor.models`` work on torch versions mmrazor 1.0 predates.

mmrazor 1.0.0 builds its quantization backend configs at import time with
torch 1.13's ``torch.ao.quantization`` API. On newer torch that import fails,
and since ``mmrazor.models`` imports it unconditionally, distillation would
be unusable too. When (and only when) the real module cannot be imported, a
stub takes its place: everything else in mmrazor works, and any use of
mmrazor's quantization raises :class:`MMRazorQuantizationUnavailable`.
"""
import importlib
import sys
import types
from typing import Iterator, Optional

import torch

BACKEND_CONFIG_MODULE = 'mmrazor.structures.quantization.backend_config'
BACKENDS = ('academic', 'native', 'openvino', 'tensorrt')


class MMRazorQuantizationUnavailable(RuntimeError):
    """Raised when mmrazor's quantization is used where it cannot work."""


class _UnavailableBackendConfigs(dict):
    """Stands in for mmrazor's ``BackendConfigs`` mapping; every lookup fails
    with the reason instead of a bare ``KeyError``."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def __getitem__(self, backend: str):
        raise MMRazorQuantizationUnavailable(
            _unavailable_message(f'BackendConfigs[{backend!r}]', self.reason))

    def __contains__(self, backend: object) -> bool:
        return backend in BACKENDS

    def __iter__(self) -> Iterator[str]:
        return iter(BACKENDS)

    def __len__(self) -> int:
        return len(BACKENDS)


def _unavailable_message(what: str, reason: str) -> str:
    return (f'{what}: mmrazor quantization is unavailable with torch '
            f'{torch.__version__}, because mmrazor 1.0.0 backend configs '
            f'fail to import on it ({reason}). cankd replaced them with a stub '
            'so that distillation works; quantization needs torch 1.13.')


def _unavailable_function(name: str, reason: str):

    def unavailable(*args, **kwargs):
        raise MMRazorQuantizationUnavailable(
            _unavailable_message(f'{name}()', reason))

    unavailable.__name__ = name
    return unavailable


def build_stub(reason: str) -> types.ModuleType:
    """Build the stand-in for ``mmrazor...backend_config``.

    Args:
        reason (str): Why the real module could not be imported.

    Returns:
        ModuleType: A module exposing the same names as the real one.
    """
    stub = types.ModuleType(BACKEND_CONFIG_MODULE,
                            'cankd stub: ' + _unavailable_message('', reason))
    names = ['BackendConfigs']
    stub.BackendConfigs = _UnavailableBackendConfigs(reason)
    for backend in BACKENDS:
        for suffix in ('', '_dict'):
            name = f'get_{backend}_backend_config{suffix}'
            setattr(stub, name, _unavailable_function(name, reason))
            names.append(name)
    stub.__all__ = names
    stub.__cankd_stub__ = True
    return stub


def _import_error() -> Optional[str]:
    """Import the real module; return why it failed, or None if it works."""
    import mmrazor  # noqa: F401 - a missing mmrazor/mmcv is reported as is
    try:
        importlib.import_module(BACKEND_CONFIG_MODULE)
    except Exception as error:  # noqa: BLE001 - any failure means "broken"
        return f'{type(error).__name__}: {error}'
    return None


def patch_mmrazor_quantization() -> bool:
    """Install the stub if mmrazor's backend configs fail to import.

    Idempotent, and a no-op where the real module imports (torch 1.13).

    Returns:
        bool: Whether this call installed the stub.
    """
    if BACKEND_CONFIG_MODULE in sys.modules:
        return False
    reason = _import_error()
    if reason is None:
        return False
    # A failed import leaves half-initialised parents behind; drop them so the
    # next import re-runs them against the stub.
    for name in [n for n in sys.modules if n.startswith(BACKEND_CONFIG_MODULE)]:
        del sys.modules[name]
    for parent in ('mmrazor.structures.quantization', 'mmrazor.structures'):
        sys.modules.pop(parent, None)
    sys.modules[BACKEND_CONFIG_MODULE] = build_stub(reason)
    return True


def is_stubbed() -> bool:
    """Whether mmrazor's backend configs are cankd's stub."""
    module = sys.modules.get(BACKEND_CONFIG_MODULE)
    return bool(getattr(module, '__cankd_stub__', False))
