# Copyright (c) cankd contributors. All rights reserved.
"""Checks that a CUDA set-up works, each GPU result against the CPU one.

Used by ``tools/analysis/check_gpu.py``, which ``make setup`` runs at the end of
a CUDA set-up. Without a GPU only the build checks run (is torch a CUDA build,
were mmcv's CUDA ops compiled, is NCCL there); every GPU check is reported as
skipped with the reason, never left out silently.
"""
import copy
import datetime
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import torch

PASSED, FAILED, SKIPPED = 'passed', 'failed', 'skipped'
#: What a check function returns: its status and the figures, error or
#: reason behind it.
Outcome = Tuple[str, str]
#: The oldest driver branch that runs CUDA 13 (torch 2.13 from PyPI).
CUDA13_MIN_DRIVER = '580'


@dataclass
class CheckResult:
    """The outcome of one check.

    Args:
        name (str): What was checked, e.g. ``'mmcv nms (CUDA vs CPU)'``.
        status (str): ``'passed'``, ``'failed'`` or ``'skipped'``.
        detail (str): The figures behind a pass, the error or the reason for
            a skip, with the fix where there is one.
    """
    name: str
    status: str
    detail: str


# Build checks: no GPU needed ----------------------------------------------


def check_torch_build() -> Outcome:
    """Torch must be a CUDA build (a CPU wheel cannot use the GPU)."""
    if torch.version.cuda is None:
        return FAILED, (f'torch {torch.__version__} is a CPU build. Re-run '
                        "the set-up with CANKD_DEVICE=cuda (it installs "
                        "PyPI's CUDA torch).")
    return PASSED, f'torch {torch.__version__}, CUDA {torch.version.cuda}'


def check_mmcv_build() -> Outcome:
    """mmcv's ops must be compiled with CUDA, for torch's CUDA major version."""
    from mmcv.ops import get_compiler_version, get_compiling_cuda_version
    compiled = get_compiling_cuda_version()
    if compiled == 'not available':
        return FAILED, ("mmcv's ops were compiled without CUDA (a CPU build, "
                        "perhaps from pip's wheel cache). Rebuild them: "
                        'CANKD_DEVICE=cuda make setup.')
    torch_major = (torch.version.cuda or '').split('.')[0]
    if compiled.split('.')[0] != torch_major:
        return FAILED, (f'mmcv was compiled with CUDA {compiled}, torch is '
                        f'CUDA {torch.version.cuda}. Rebuild mmcv: '
                        'CANKD_DEVICE=cuda make setup.')
    return PASSED, f'CUDA {compiled}, {get_compiler_version()}'


def check_nccl_build() -> Outcome:
    """torch must ship NCCL, the backend of multi-GPU training."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_nccl_available()):
        return FAILED, f'torch {torch.__version__} has no NCCL backend.'
    version = '.'.join(str(v) for v in torch.cuda.nccl.version())
    return PASSED, f'NCCL {version}'


BUILD_CHECKS: List[Tuple[str, Callable[[], Outcome]]] = [
    ('torch is a CUDA build', check_torch_build),
    ('mmcv ops compiled with CUDA', check_mmcv_build),
    ('NCCL in torch', check_nccl_build),
]

# Why there is no GPU --------------------------------------------------------


def gpus_listed_by_driver() -> List[str]:
    """The GPUs ``nvidia-smi -L`` lists; empty without a driver."""
    if shutil.which('nvidia-smi') is None:
        return []
    try:
        out = subprocess.run(['nvidia-smi', '-L'], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in out.splitlines() if line.startswith('GPU ')]


def no_gpu_reason(device: torch.device) -> Optional[str]:
    """Why the GPU checks cannot run on ``device``; None when they can."""
    if torch.version.cuda is None:
        return 'torch is a CPU build'
    if torch.cuda.is_available():
        if (device.index or 0) < torch.cuda.device_count():
            return None
        return (f'{device} does not exist: torch sees '
                f'{torch.cuda.device_count()} GPU(s)')
    listed = gpus_listed_by_driver()
    if not listed:
        visible = os.environ.get('CUDA_VISIBLE_DEVICES')
        hint = (f' (CUDA_VISIBLE_DEVICES={visible!r})'
                if visible is not None else '')
        return f'no GPU visible: nvidia-smi lists none{hint}'
    return (f'nvidia-smi lists {len(listed)} GPU(s) but torch (CUDA '
            f'{torch.version.cuda}) cannot use them: the driver is probably '
            f'too old (CUDA 13 needs the {CUDA13_MIN_DRIVER} driver or '
            'newer). Update it, or install the torch that matches it '
            '(README, GPU install).')


# GPU checks ------------------------------------------------------------------


#: A CPU gradient this much smaller than the largest one is zero in exact
#: arithmetic (e.g. the bias of a channel that a norm removes again): its GPU
#: counterpart is then compared with the largest gradient instead.
ZERO_GRAD_RATIO = 1e-4


def _worst_error(pairs: List[Tuple[str, torch.Tensor, torch.Tensor]]
                 ) -> Tuple[float, str]:
    """The largest error among (what, gpu, cpu) pairs, and which pair it is.

    The error of a pair is ``‖gpu − cpu‖ / ‖cpu‖`` (L2 norms). A CPU tensor
    smaller than ``ZERO_GRAD_RATIO`` times the largest of ``pairs`` is exactly
    zero but for rounding; it is measured as ``‖gpu‖ / largest``. Non-finite
    GPU values are an infinite error.
    """
    norms = [cpu.detach().float().norm().item() for _, _, cpu in pairs]
    largest = max(norms)
    errors = []
    for (what, gpu, cpu), norm in zip(pairs, norms):
        gpu = gpu.detach().float().cpu()
        if not torch.isfinite(gpu).all():
            errors.append((float('inf'), f'{what}, non-finite'))
        elif norm < ZERO_GRAD_RATIO * largest:
            errors.append((gpu.norm().item() / largest, f'{what}, zero'))
        else:
            errors.append(((gpu - cpu.detach().float()).norm().item() / norm,
                           what))
    return max(errors)


def _compare(pairs: List[Tuple[str, torch.Tensor, torch.Tensor]],
             tolerance: float) -> Outcome:
    """Passed when every (what, gpu, cpu) pair agrees within ``tolerance``."""
    worst, what = _worst_error(pairs)
    return (PASSED if worst <= tolerance else FAILED), (
        f'largest relative error {worst:.1e} ({what}), tolerance '
        f'{tolerance:.0e}')


def check_mmcv_nms(device: torch.device) -> Outcome:
    """mmcv's CUDA nms keeps the same boxes as its CPU nms."""
    from mmcv.ops import nms
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(500, 2, generator=gen) * 200
    boxes = torch.cat([xy, xy + 8 + torch.rand(500, 2, generator=gen) * 40],
                      dim=1)
    scores = torch.rand(500, generator=gen)
    _, keep_cpu = nms(boxes, scores, iou_threshold=0.5)
    _, keep_gpu = nms(boxes.to(device), scores.to(device), iou_threshold=0.5)
    same = torch.equal(keep_gpu.cpu(), keep_cpu)
    detail = (f'{len(keep_cpu)} of 500 boxes kept on CPU, {len(keep_gpu)} on '
              'GPU' + ('' if same else ': the kept boxes differ'))
    return (PASSED if same else FAILED), detail


def check_mmcv_roi_align(device: torch.device) -> Outcome:
    """mmcv's CUDA RoIAlign, forward and backward, against its CPU kernel."""
    from mmcv.ops import roi_align
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 16, 48, 64, generator=gen)
    corner = torch.rand(40, 2, generator=gen) * torch.tensor([400., 250.])
    size = 16 + torch.rand(40, 2, generator=gen) * 100
    index = torch.randint(0, 2, (40, 1), generator=gen).float()
    rois = torch.cat([index, corner, corner + size], dim=1)

    def run(dev: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
        x = feats.to(dev, copy=True).requires_grad_()
        # An autograd Function: positional arguments only (output size,
        # spatial scale, sampling ratio, pool mode, aligned).
        out = roi_align(x, rois.to(dev), (7, 7), 1 / 8, 2, 'avg', True)
        out.pow(2).sum().backward()
        return out, x.grad

    out_cpu, grad_cpu = run(torch.device('cpu'))
    out_gpu, grad_gpu = run(device)
    return _compare([('output', out_gpu, out_cpu),
                     ('feature grad', grad_gpu, grad_cpu)], 1e-4)


def _can_loss_pairs(affinity: str, device: torch.device,
                    amp_dtype: Optional[torch.dtype]):
    """CanLoss's loss and gradients on ``device`` beside CPU fp32 ones.

    ``W_z``'s norm starts at zero (the block is the identity at step 0); it is
    given random values here so that the attention path reaches the loss.

    Returns:
        tuple: The GPU loss and a list of (what, gpu tensor, cpu tensor).
    """
    from cankd.models.losses import CanLoss
    torch.manual_seed(0)
    cpu_module = CanLoss(in_channels=32, affinity=affinity, loss_weight=10)
    torch.nn.init.normal_(cpu_module.w_z[1].weight)
    torch.nn.init.normal_(cpu_module.w_z[1].bias)
    gpu_module = copy.deepcopy(cpu_module).to(device)
    gen = torch.Generator().manual_seed(1)
    student = torch.randn(2, 32, 24, 40, generator=gen)
    teacher = torch.randn(2, 32, 24, 40, generator=gen)

    def run(module, dev, dtype):
        s = student.to(dev, copy=True).requires_grad_()
        with torch.autocast(dev.type, dtype=dtype or torch.bfloat16,
                            enabled=dtype is not None):
            loss = module(s, teacher.to(dev))
        loss.backward()
        return loss, [('student grad', s.grad)] + [
            (f'{name} grad', p.grad) for name, p in module.named_parameters()]

    loss_cpu, grads_cpu = run(cpu_module, torch.device('cpu'), None)
    loss_gpu, grads_gpu = run(gpu_module, device, amp_dtype)
    pairs = [('loss', loss_gpu, loss_cpu)] + [
        (what, gpu, cpu) for (what, gpu), (_, cpu) in zip(grads_gpu, grads_cpu)]
    return loss_gpu, pairs


#: CPU fp32 against CUDA fp32 with TF32 off (TF32 convolutions would differ
#: by ~1e-3): only the order of sums differs.
FP32_TOLERANCE = 1e-4
#: CUDA under autocast against CPU fp32. On CPU, autocast's largest gradient
#: errors are 7.8e-2 in bfloat16 and 6.9e-3 in float16 (phi.weight of the
#: embedded gaussian); a wrong kernel gives errors of order 1.
AMP_TOLERANCE = {torch.bfloat16: 0.2, torch.float16: 0.05}


def check_can_loss(device: torch.device,
                   amp_dtype: Optional[torch.dtype] = None) -> Outcome:
    """CanLoss forward+backward on CUDA against CPU fp32, all affinities.

    Args:
        device (torch.device): The CUDA device.
        amp_dtype (torch.dtype, optional): Run the CUDA side under
            ``torch.autocast`` with this dtype (the loss must still be fp32).
            None compares fp32 with fp32, TF32 off.

    Returns:
        Outcome: Passed when the loss and every gradient agree.
    """
    if (amp_dtype is torch.bfloat16 and device.type == 'cuda'
            and not torch.cuda.is_bf16_supported()):
        return SKIPPED, f'{torch.cuda.get_device_name(device)} has no bfloat16'
    tolerance = AMP_TOLERANCE.get(amp_dtype, FP32_TOLERANCE)
    saved = (torch.backends.cudnn.allow_tf32,
             torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    details, failed = [], False
    try:
        for affinity in ('dot_product', 'gaussian', 'embedded_gaussian'):
            loss, pairs = _can_loss_pairs(affinity, device, amp_dtype)
            if loss.dtype != torch.float32:
                return FAILED, (f'{affinity}: the loss is {loss.dtype}; '
                                'CanLoss computes it in fp32 under AMP')
            # The loss (~10) apart from the gradients (~1e-2), so that the
            # gradients' zero threshold is their own.
            loss_error, _ = _worst_error(pairs[:1])
            grad_error, grad_what = _worst_error(pairs[1:])
            failed = failed or max(loss_error, grad_error) > tolerance
            details.append(f'{affinity}: loss {loss_error:.1e}, gradients '
                           f'{grad_error:.1e} ({grad_what})')
    finally:
        (torch.backends.cudnn.allow_tf32,
         torch.backends.cuda.matmul.allow_tf32) = saved
    return (FAILED if failed else PASSED), (
        f'relative errors, tolerance {tolerance:.0e}: ' + '; '.join(details))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def check_nccl_init(device: torch.device) -> Outcome:
    """A one-process NCCL group initialises and all-reduces on the GPU."""
    import torch.distributed as dist
    if dist.is_initialized():
        return SKIPPED, 'a process group is already initialised here'
    dist.init_process_group(
        'nccl', init_method=f'tcp://127.0.0.1:{_free_port()}', rank=0,
        world_size=1, timeout=datetime.timedelta(seconds=60),
        device_id=device)
    try:
        value = torch.full((4, ), 3.0, device=device)
        dist.all_reduce(value)
        torch.cuda.synchronize(device)
        ok = bool((value == 3.0).all())
    finally:
        dist.destroy_process_group()
    return (PASSED if ok else FAILED), (
        f'backend nccl on {device}, all_reduce '
        + ('correct' if ok else f'gave {value.tolist()}'))


def gpu_checks(
        device: torch.device) -> List[Tuple[str, Callable[[], Outcome]]]:
    """The checks that need a GPU, by name, in the order they run."""
    return [
        ('mmcv nms (CUDA vs CPU)', lambda: check_mmcv_nms(device)),
        ('mmcv RoIAlign fwd+bwd (CUDA vs CPU)',
         lambda: check_mmcv_roi_align(device)),
        ('CanLoss fwd+bwd fp32 (CUDA vs CPU)', lambda: check_can_loss(device)),
        ('CanLoss fwd+bwd autocast fp16 (CUDA vs CPU fp32)',
         lambda: check_can_loss(device, torch.float16)),
        ('CanLoss fwd+bwd autocast bf16 (CUDA vs CPU fp32)',
         lambda: check_can_loss(device, torch.bfloat16)),
        ('NCCL process group (1 process, all_reduce)',
         lambda: check_nccl_init(device)),
    ]


def _run(name: str, check: Callable[[], Outcome]) -> CheckResult:
    """Run a check; an exception is its failure, with the message."""
    try:
        status, detail = check()
    except Exception as error:  # noqa: BLE001 - reported as the failure
        status, detail = FAILED, f'{type(error).__name__}: {error}'
        if 'no kernel image' in str(error):
            major, minor = torch.cuda.get_device_capability()
            detail += (f' (mmcv was compiled for other GPUs; rebuild for this '
                       f'one: TORCH_CUDA_ARCH_LIST="{major}.{minor}" '
                       'CANKD_DEVICE=cuda make setup)')
    return CheckResult(name, status, detail)


def run_checks(device: str = 'cuda:0') -> List[CheckResult]:
    """All checks: the build checks, then the GPU checks or why they skip.

    Args:
        device (str): The CUDA device of the GPU checks.

    Returns:
        list[CheckResult]: One result per check, none left out.
    """
    target = torch.device(device)
    if target.type != 'cuda':
        raise ValueError(f'device={device!r}: the GPU checks need a CUDA '
                         "device such as 'cuda:0'.")
    results = [_run(name, check) for name, check in BUILD_CHECKS]
    reason = no_gpu_reason(target)
    for name, check in gpu_checks(target):
        results.append(CheckResult(name, SKIPPED, reason)
                       if reason is not None else _run(name, check))
    return results


def exit_code(results: List[CheckResult], compile_only: bool) -> int:
    """0 when nothing failed and, unless ``compile_only``, nothing skipped."""
    if any(r.status == FAILED for r in results):
        return 1
    if not compile_only and any(r.status == SKIPPED for r in results):
        return 1
    return 0


def report(results: List[CheckResult], compile_only: bool,
           device_name: str) -> str:
    """The table ``check_gpu.py`` prints, with the verdict as its last line.

    Args:
        results (list[CheckResult]): What :func:`run_checks` returned.
        compile_only (bool): Skipped GPU checks are accepted.
        device_name (str): The GPU's name, or why there is none.

    Returns:
        str: One line per check, then the verdict.
    """
    lines = [f'GPU checks (torch {torch.__version__}; {device_name}):']
    width = max(len(r.name) for r in results)
    lines += [f'  {r.status.upper():7s} {r.name:{width}s}  {r.detail}'
              for r in results]
    counts = {s: sum(r.status == s for r in results)
              for s in (PASSED, FAILED, SKIPPED)}
    summary = ', '.join(f'{n} {s}' for s, n in counts.items())
    if counts[FAILED]:
        lines.append(f'FAILED ({summary}).')
    elif counts[SKIPPED] and compile_only:
        lines.append(f'OK for a compile-only set-up ({summary}); the skipped '
                     'checks run when a GPU is visible: '
                     'python tools/analysis/check_gpu.py')
    elif counts[SKIPPED]:
        lines.append(f'NOT CHECKED ({summary}): the skipped checks need a '
                     'GPU. On a machine without one, pass --compile-only to '
                     'accept the build checks alone.')
    else:
        lines.append(f'OK ({summary}).')
    return '\n'.join(lines)
