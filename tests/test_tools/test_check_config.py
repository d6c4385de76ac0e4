# Copyright (c) cankd contributors. All rights reserved.
"""``tools/analysis/check_config.py``: the check users run before a
multi-day job prints every distilled pair and fails on a mismatch."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_CFG = (ROOT / 'configs' / 'demo' /
            'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py')


def check_config(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, 'tools/analysis/check_config.py',
         str(config), '--image-size', '128', '128'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_prints_every_pair_and_passes():
    result = check_config(DEMO_CFG)
    assert result.returncode == 0, result.stderr
    for level, size in enumerate((16, 8, 4, 2)):
        assert f'loss_can_fpn{level}' in result.stdout
        assert f'(1, 64, {size}, {size})' in result.stdout
    assert 'teacher_ckpt: work_dirs/demo/teacher.pth' in result.stdout
    assert result.stdout.rstrip().endswith('OK')


def test_levels_paired_across_strides_fail_with_the_recorders(tmp_path):
    shifted = tmp_path / 'shifted.py'
    shifted.write_text(
        f"_base_ = '{DEMO_CFG}'\n"
        'model = dict(distiller=dict(loss_forward_mappings=dict(\n'
        '    loss_can_fpn0=dict(t_feature=dict(data_idx=1)))))\n')
    result = check_config(shifted)
    assert result.returncode == 1
    assert ("ERROR: loss_can_fpn0 pairs student recorder 'fpn[0]'"
            in result.stderr)
    assert "teacher recorder 'fpn[1]'" in result.stderr
    assert 'their strides differ' in result.stderr
