# Copyright (c) cankd contributors. All rights reserved.
"""Smoke tests of tools/analysis/benchmark_loss.py and complexity.py: run
them as a user would, with tiny settings, and check what they print."""
import json
import re
import subprocess
import sys
from pathlib import Path

from types import SimpleNamespace

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / 'tools' / 'analysis'


def run_tool(script, *args):
    result = subprocess.run(
        [sys.executable, str(TOOLS / script), *map(str, args)], cwd=ROOT,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (result.stdout[-3000:] +
                                    result.stderr[-3000:])
    return result.stdout


@pytest.fixture(scope='module')
def benchmark(tmp_path_factory):
    folder = tmp_path_factory.mktemp('bench')
    out = run_tool('benchmark_loss.py', '--quick', '--channels', 32,
                   '--sweep', 16, '--repeats', 1, '--warmup', 0,
                   '--json', folder / 'bench.json', '--plot',
                   folder / 'sweep.png')
    return out, json.loads((folder / 'bench.json').read_text()), folder


def test_benchmark_prints_tables_and_verdicts(benchmark):
    out, _, _ = benchmark
    assert 'torch threads set to' in out
    assert re.search(r'^\| shape \| CanLoss dot \|', out, re.M)
    # --quick at p2-p6: P5, P6 and the 16² map, each measured for all
    for label in ('P5 2×32×25×42', 'P6 2×32×13×21', '16² 2×32×16×16'):
        row = next(line for line in out.splitlines()
                   if line.startswith(f'| {label} |') and ' / ' in line)
        assert 'error' not in row and 'skipped' not in row, row
    assert 'Targets (this run):' in out
    assert 'P2: CanLoss ≥10× faster' in out  # not measured with --quick


def test_benchmark_dense_matches_fast_path(benchmark):
    out, data, _ = benchmark
    assert 'max abs diff grad_S' in out
    checks = [row['check'] for row in data['results']]
    assert len(checks) == 3 and all(checks)
    for check in checks:
        assert check['loss_abs_diff'] < 1e-5
        assert check['grad_rel_diff'] < 1e-4
        assert check['grad_abs_max'] > 0  # W_z's norm is not zero: real test


def test_benchmark_json(benchmark):
    _, data, _ = benchmark
    assert set(data) == {'meta', 'results', 'verdicts'}
    assert data['meta']['torch_threads'] >= 1 and data['meta']['cpu']
    for row in data['results']:
        assert set(row) >= {'label', 'shape', 'methods', 'ratios', 'check'}
        assert set(row['methods']) == ({
            'can_dot_product', 'can_gaussian', 'can_embedded_gaussian',
            'dense', 'pkd', 'mgd', 'cwd', 'floor'
        } if row['label'].startswith('P') else {  # the sweep's default set
            'can_dot_product', 'can_embedded_gaussian', 'dense', 'pkd',
            'floor'
        })
        for result in row['methods'].values():
            assert result['status'] == 'ok'
            assert result['time_ms'] > 0 and result['peak_mib'] > 0
        assert row['ratios']['dense_over_can_time'] > 0
    assert {v['status'] for v in data['verdicts']} <= {
        'met', 'missed', 'not measured'}


def test_benchmark_plots_time_and_memory_against_pixels(benchmark):
    out, _, folder = benchmark
    # The default plotted methods, all measured at the three shapes.
    assert ('plot (CanLoss dot, DenseCanLoss, PKD, floor (4 convs)): '
            f'{folder / "sweep.png"}') in out
    with Image.open(folder / 'sweep.png') as image:
        assert image.format == 'PNG' and image.width > 800


def test_the_plot_leaves_out_what_was_not_measured(tool_module):
    plot = tool_module('tools/analysis/_loss_plot.py')
    shape = SimpleNamespace(pixels=256, label='16²')
    rows = [
        dict(shape=SimpleNamespace(pixels=4096, label='64²'),
             methods=dict(dense=dict(status='does not fit'))),
        dict(shape=shape,
             methods=dict(dense=dict(status='ok', time_ms=2.0,
                                     peak_mib=1.0))),
    ]
    assert plot.method_series(rows, 'dense', 'time_ms') == dict(
        pixels=[256], values=[2.0], missing=['64²'])
    assert plot.method_series(rows, 'pkd', 'time_ms') == dict(
        pixels=[], values=[], missing=[])


def test_benchmark_dense_budget_is_a_result_not_a_crash(tmp_path):
    path = tmp_path / 'bench.json'
    out = run_tool('benchmark_loss.py', '--quick', '--channels', 8,
                   '--sweep', '--methods', 'dense', '--repeats', 1,
                   '--max-dense-gib', 1e-4, '--json', path)
    assert 'dense: does not fit (needs' in out
    data = json.loads(path.read_text())
    assert all(row['methods']['dense']['status'] == 'does not fit'
               for row in data['results'])


def test_peak_memory_methods_count_backward(tool_module):
    import torch
    measurement = tool_module('tools/analysis/_loss_measurement.py')
    PeakMemoryTracker = measurement.PeakMemoryTracker
    profiler_peak = measurement.profiler_peak
    x = torch.randn(256, 256, requires_grad=True)
    w = torch.randn(256, 256, requires_grad=True)
    size = 256 * 256 * 4

    def step():
        x.grad = w.grad = None
        (x @ w).relu().sum().backward()

    step()
    x.grad = w.grad = None
    # Forward peaks at 2 matrices (mm's output, relu's). Backward: relu's
    # saved output + the gradient of its input (2), then that gradient +
    # x.grad + w.grad (3): the peak is 3 matrices, all from backward.
    with PeakMemoryTracker() as tracker:
        step()
    assert tracker.peak == pytest.approx(3 * size, abs=1024)
    assert tracker.live == pytest.approx(2 * size, abs=1024)  # the .grads
    x.grad = w.grad = None
    _, peak = profiler_peak(step)
    assert peak == pytest.approx(3 * size, abs=1024)


def test_complexity(tmp_path):
    path = tmp_path / 'complexity.json'
    out = run_tool('complexity.py', '--shape', 1, 256, 32, 32, '--methods',
                   'can_dot_product', 'can_embedded_gaussian', 'dense', 'pkd',
                   '--json', path)
    assert re.search(r'^\| method \| params \|', out, re.M)
    assert 'Paper Table 5' in out
    rows = {row['method']: row for row in json.loads(path.read_text())['rows']}
    assert rows['can_dot_product']['params'] == 132224
    assert rows['dense']['params'] == 132224  # shares CanLoss's parameters
    assert rows['can_dot_product']['fwd_flops'] < rows['dense']['fwd_flops']
    # The attention matmuls are counted, fused softmax attention included:
    # embedded gaussian = dense (both form Qᵀ K and multiply it by V).
    assert rows['can_dot_product']['fwd_matmul_flops'] > 0
    assert (rows['can_embedded_gaussian']['fwd_matmul_flops']
            == rows['dense']['fwd_matmul_flops'])
    assert (rows['can_dot_product']['fwd_bwd_flops']
            > rows['can_dot_product']['fwd_flops'])
    # The four 1×1 convs C↔C' over HW pixels run as layers in the dense
    # formulation (2 FLOPs per multiply-add); CanLoss runs φ and g as one
    # conv, and θ, the attention and W_z as one C×C matmul over the pixels.
    one_conv = 2 * 32 * 32 * 256 * 128
    assert rows['dense']['fwd_conv_flops'] == 4 * one_conv
    assert rows['can_dot_product']['fwd_conv_flops'] == 2 * one_conv
    assert rows['can_dot_product']['fwd_matmul_flops'] > 2 * one_conv
    # mmengine's FlopAnalyzer (multiply-adds, norms included) ran as well;
    # it has no handle for baddbmm, and says so.
    assert rows['can_dot_product']['flop_analyzer_macs'] > 0
    assert 'baddbmm' in rows['can_dot_product']['flop_analyzer_missed']
