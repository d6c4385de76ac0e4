# Copyright (c) cankd contributors. All rights reserved.
"""mmrazor 1.0 imports on current torch once cankd is imported; its
quantization fails loudly, with the reason, instead of at import time."""
import re
import subprocess
import sys

import pytest
import torch

from cankd import compat
from cankd.compat import mmrazor_quantization as shim


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_mmrazor_models_fails_without_cankd_and_imports_with_it():
    bare = run_python('import mmrazor.models')
    patched = run_python('import cankd, mmrazor.models; '
                         'from cankd.compat import is_stubbed; '
                         'print(is_stubbed())')
    assert bare.returncode != 0, 'shim no longer needed: revisit the stub'
    assert patched.returncode == 0, patched.stderr
    assert patched.stdout.strip() == 'True'


def test_register_all_modules_works_after_import():
    from mmrazor.registry import MODELS
    from mmrazor.utils import register_all_modules
    register_all_modules()
    for name in ('ConfigurableDistiller', 'FpnTeacherDistill',
                 'SingleTeacherDistill', 'CanLoss'):
        assert MODELS.get(name) is not None, name


def test_stub_exposes_every_name_of_the_real_module():
    import mmrazor.structures.quantization as quantization
    assert compat.is_stubbed()
    for backend in shim.BACKENDS:
        assert callable(getattr(quantization, f'get_{backend}_backend_config'))
        assert callable(
            getattr(quantization, f'get_{backend}_backend_config_dict'))
    assert set(quantization.BackendConfigs) == set(shim.BACKENDS)


def test_using_quantization_raises_a_clear_error():
    from mmrazor.structures.quantization import (BackendConfigs,
                                                 get_native_backend_config)
    with pytest.raises(compat.MMRazorQuantizationUnavailable,
                       match=rf'get_native_backend_config\(\): mmrazor '
                       rf'quantization is unavailable with torch '
                       rf'{re.escape(torch.__version__)}.*needs torch 1.13'):
        get_native_backend_config()
    with pytest.raises(compat.MMRazorQuantizationUnavailable,
                       match=r"BackendConfigs\['tensorrt'\]"):
        BackendConfigs['tensorrt']


def test_the_reason_names_the_original_import_failure():
    stub = sys.modules[shim.BACKEND_CONFIG_MODULE]
    assert 'Error' in stub.BackendConfigs.reason


def test_patch_is_idempotent():
    stub = sys.modules[shim.BACKEND_CONFIG_MODULE]
    assert compat.patch_mmrazor_quantization() is False
    assert sys.modules[shim.BACKEND_CONFIG_MODULE] is stub
