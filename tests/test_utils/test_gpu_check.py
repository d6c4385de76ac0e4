# Copyright (c) cankd contributors. All rights reserved.
"""tools/analysis/check_gpu.py on a machine without GPU: every check is
listed, the GPU ones as skipped with the reason, and the exit status says
whether a build-only result is accepted (``--compile-only``)."""
import runpy
import subprocess
import sys
from pathlib import Path

import mmcv.ops
import pytest
import torch
import torch.distributed

from cankd.utils import gpu_check

ROOT = Path(__file__).resolve().parents[2]
GPU_CHECK_NAMES = [name for name, _ in gpu_check.gpu_checks(
    torch.device('cuda:0'))]


@pytest.fixture
def cuda_build_without_gpu(monkeypatch):
    """A CUDA 13 build of torch and mmcv, as on a CPU machine that compiled
    the GPU stack (the test machine's CPU torch answers as one)."""
    monkeypatch.setattr(torch.version, 'cuda', '13.0')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.distributed, 'is_nccl_available', lambda: True)
    monkeypatch.setattr(torch.cuda.nccl, 'version', lambda: (2, 29, 7))
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version',
                        lambda: '13.0')
    monkeypatch.setattr(gpu_check, 'gpus_listed_by_driver', lambda: [])


@pytest.mark.skipif(torch.version.cuda is not None,
                    reason='checks what a CPU torch reports')
def test_cpu_stack_fails_build_checks_and_lists_skipped_gpu_checks():
    result = subprocess.run(
        [sys.executable, 'tools/analysis/check_gpu.py', '--compile-only'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert 'CPU build. Re-run the set-up with CANKD_DEVICE=cuda' in lines[1]
    assert lines[1].split()[0] == 'FAILED'
    for name in GPU_CHECK_NAMES:
        line = next(line for line in lines if name in line)
        assert line.split()[0] == 'SKIPPED' and 'torch is a CPU build' in line
    assert lines[-1] == 'FAILED (0 passed, 3 failed, 6 skipped).'


def test_compile_only_accepts_build_checks_alone(cuda_build_without_gpu):
    results = gpu_check.run_checks('cuda:0')
    assert [r.status for r in results[:3]] == ['passed'] * 3, results
    assert results[2].detail == 'NCCL 2.29.7'
    skipped = results[3:]
    assert [r.name for r in skipped] == GPU_CHECK_NAMES
    assert {r.status for r in skipped} == {'skipped'}
    assert {r.detail for r in skipped} == {
        'no GPU visible: nvidia-smi lists none'}

    assert gpu_check.exit_code(results, compile_only=True) == 0
    text = gpu_check.report(results, True, 'no GPU')
    assert text.splitlines()[-1].startswith(
        'OK for a compile-only set-up (3 passed, 0 failed, 6 skipped)')
    # Without --compile-only, skipped GPU checks are no success.
    assert gpu_check.exit_code(results, compile_only=False) == 1
    assert 'pass --compile-only' in gpu_check.report(results, False, 'no GPU')


def test_gpu_the_driver_lists_but_torch_cannot_use(cuda_build_without_gpu,
                                                   monkeypatch):
    monkeypatch.setattr(gpu_check, 'gpus_listed_by_driver',
                        lambda: ['GPU 0: NVIDIA H100 (UUID: GPU-1)'])
    reason = gpu_check.no_gpu_reason(torch.device('cuda:0'))
    assert 'nvidia-smi lists 1 GPU(s) but torch (CUDA 13.0) cannot' in reason
    assert 'the 580 driver or newer' in reason


def test_mmcv_without_cuda_ops_is_a_failure_naming_the_fix(
        cuda_build_without_gpu, monkeypatch):
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version',
                        lambda: 'not available')
    status, detail = gpu_check.check_mmcv_build()
    assert status == 'failed' and 'CANKD_DEVICE=cuda make setup' in detail
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version',
                        lambda: '12.8')
    status, detail = gpu_check.check_mmcv_build()
    assert status == 'failed'
    assert 'compiled with CUDA 12.8, torch is CUDA 13.0' in detail


def test_a_non_cuda_device_is_refused(capsys):
    with pytest.raises(ValueError, match="device='cpu'"):
        gpu_check.run_checks('cpu')
    tool = runpy.run_path(str(ROOT / 'tools/analysis/check_gpu.py'))
    assert tool['main'](['--device', 'cpu']) == 2
    assert '--device cpu: expected a CUDA device' in capsys.readouterr().err


def test_the_gpu_checks_code_runs_with_cpu_on_both_sides():
    """The GPU checks' own code, run with the CPU as "GPU": identical kernels
    agree, and CanLoss under CPU autocast stays within the AMP tolerances."""
    cpu = torch.device('cpu')
    assert gpu_check.check_mmcv_nms(cpu)[0] == 'passed'
    assert gpu_check.check_mmcv_roi_align(cpu)[0] == 'passed'
    status, detail = gpu_check.check_can_loss(cpu)
    assert status == 'passed', detail
    assert detail.count('loss 0.0e+00') == 3  # same kernels, same loss
    for dtype in (torch.bfloat16, torch.float16):
        status, detail = gpu_check.check_can_loss(cpu, dtype)
        assert status == 'passed', detail
        assert 'loss 0.0e+00' not in detail  # autocast really ran


def test_compare_catches_wrong_values_and_keeps_zero_gradients_zero():
    gen = torch.Generator().manual_seed(0)
    cpu = torch.randn(64, generator=gen)
    zero = torch.full((8, ), 1e-9)
    pairs = [('grad', cpu * 1.001, cpu), ('bias grad', zero * 3, zero)]
    assert gpu_check._compare(pairs, 1e-2)[0] == 'passed'
    assert gpu_check._compare(pairs, 1e-4)[0] == 'failed'  # 1e-3 off
    # A gradient that must be zero may not become large on the GPU.
    wrong_zero = [pairs[0], ('bias grad', torch.ones(8), zero)]
    status, detail = gpu_check._compare(wrong_zero, 1e-2)
    assert status == 'failed' and '(bias grad, zero)' in detail
    nan = [('grad', torch.full((64, ), float('nan')), cpu)]
    status, detail = gpu_check._compare(nan, 1e-2)
    assert status == 'failed' and 'grad, non-finite' in detail


def test_a_kernel_built_for_other_gpus_names_the_rebuild(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda: (8, 6))

    def launch():
        raise RuntimeError('CUDA error: no kernel image is available for '
                           'execution on the device')

    result = gpu_check._run('mmcv nms (CUDA vs CPU)', launch)
    assert result.status == 'failed'
    assert 'RuntimeError: CUDA error: no kernel image' in result.detail
    assert 'TORCH_CUDA_ARCH_LIST="8.6" CANKD_DEVICE=cuda make setup' in \
        result.detail
