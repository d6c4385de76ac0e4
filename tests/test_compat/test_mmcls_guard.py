# Copyright (c) cankd contributors. All rights reserved.
"""mmcls must never be installed beside cankd's stack: mmcls 1.0.0rc6
asserts mmcv < 2.1.0 at import, and mmrazor imports it catching only
ImportError, so every distillation would fail far from the cause.
``import cankd`` refuses it first, with the fix."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What mmcls 1.0.0rc6's __init__ does on mmcv 2.1.0.
MMCLS_RC6 = ("assert False, ('MMCV==2.1.0 is used but incompatible. '\n"
             "                'Please install mmcv>=2.0.0rc1, <2.1.0.')\n")


def import_cankd_beside(tmp_path: Path, mmcls_init: str):
    """``python -c 'import cankd'`` with an ``mmcls`` package of the given
    ``__init__`` on the path."""
    (tmp_path / 'mmcls').mkdir()
    (tmp_path / 'mmcls' / '__init__.py').write_text(mmcls_init)
    path = os.pathsep.join(
        p for p in (str(tmp_path), os.environ.get('PYTHONPATH')) if p)
    return subprocess.run(
        [sys.executable, '-c', 'import cankd'], cwd=ROOT, text=True,
        capture_output=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS='1'))


def test_this_environment_has_no_mmcls():
    assert importlib.util.find_spec('mmcls') is None, (
        'mmcls is installed: it breaks mmrazor on mmcv 2.1.0; '
        'pip uninstall -y mmcls')


def test_incompatible_mmcls_is_refused_at_import_with_the_fix(tmp_path):
    result = import_cankd_beside(tmp_path, MMCLS_RC6)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        'cankd.compat.mmcls_guard.IncompatibleMMClsError: mmcls is '
        'installed and fails to import here (MMCV==2.1.0 is used'), last_line
    assert 'pip uninstall -y mmcls' in last_line
    assert 'mmpretrain' in last_line


def test_an_mmcls_that_imports_is_left_alone(tmp_path):
    result = import_cankd_beside(tmp_path, '__version__ = "9.9"\n')
    assert result.returncode == 0, result.stderr[-2000:]
