# Copyright (c) cankd contributors. All rights reserved.
"""torchvision's Python side (models and their weight URLs, which mmengine
needs for ``torchvision://`` checkpoints) imports after ``import cankd``,
whether torchvision's compiled ops load beside this torch, do not, or
torchvision is not installed at all."""
import subprocess
import sys
import textwrap

import pytest

from cankd.compat import torchvision_ops


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    import os
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **env))


def torchvision_ops_load() -> bool:
    """Whether this machine's torchvision loads its compiled ops by itself."""
    return run_python('import torchvision').returncode == 0


def test_broken_ops_are_declared_and_the_models_import():
    if torchvision_ops_load():
        pytest.skip("this torchvision's ops load: nothing to mend here")
    result = run_python("""
        import cankd, torchvision
        from cankd.compat import torchvision_has_ops
        from mmengine.runner.checkpoint import get_torchvision_models
        from torchvision.models import resnet50
        urls = get_torchvision_models()
        print(torchvision_has_ops(), urls['resnet50'].endswith('.pth'),
              type(resnet50()).__name__)
        """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['False', 'True', 'ResNet']


def test_a_declared_op_fails_loudly_when_called():
    if torchvision_ops_load():
        pytest.skip("this torchvision's ops load: nothing to mend here")
    result = run_python("""
        import cankd, torch, torchvision
        torchvision.ops.nms(torch.rand(3, 4), torch.rand(3), 0.5)
        """)
    assert result.returncode != 0
    assert "Couldn't load custom C++ ops" in result.stderr


def test_without_torchvision_cankd_still_imports():
    # None in sys.modules is how Python spells "not installed" for a test:
    # importing it raises ModuleNotFoundError, find_spec finds nothing.
    result = run_python("""
        import sys
        sys.modules['torchvision'] = None
        import cankd
        from cankd.compat import torchvision_has_ops
        print(torchvision_has_ops())
        """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'False'


def test_a_working_torchvision_is_left_alone(tmp_path):
    package = tmp_path / 'torchvision'
    package.mkdir()
    (package / '__init__.py').write_text("__version__ = '0.0-working'\n")
    result = run_python(
        """
        from cankd.compat.torchvision_ops import patch_torchvision_ops
        import torch
        print(patch_torchvision_ops(), hasattr(torch.ops.torchvision, 'nms'))
        """, PYTHONPATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['False', 'False']


def test_patch_is_idempotent():
    import torchvision  # noqa: F401  (imported by cankd already)
    assert torchvision_ops.patch_torchvision_ops() is False
    assert torchvision_ops.declare_torchvision_ops() == 0
