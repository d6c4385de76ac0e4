# Copyright (c) cankd contributors. All rights reserved.
"""Time and peak memory of distillation losses, forward + backward.

Compares cankd's ``CanLoss`` (three affinities) with the dense formulation of
the paper (the ``HW × N'`` affinity matrix materialised, ``DenseCanLoss``,
same parameters), MMRazor's ``PKDLoss``, ``MGDLoss`` (with its
``MGDConnector``, as MMRazor's MGD config builds it) and
``ChannelWiseDivergence``, and the "floor" of CanLoss: its four 1×1 convs
alone. Shapes: the FPN levels of a 1333×800 image (padded to 1344×800) and a
sweep of square maps. Also checks that CanLoss and DenseCanLoss agree (loss
and student gradient) wherever the dense one fits.

    python tools/analysis/benchmark_loss.py [--device cpu|cuda]
        [--levels p2-p6|p3-p7] [--repeats 5] [--warmup 1] [--quick]
        [--json PATH] [--plot PNG]

Peak memory is the most memory allocated at one time during one forward +
backward step, above what was allocated before it (activations, saved
tensors, kernel workspaces, the gradients of the step; not the inputs and
parameters, which exist before the step):

- CPU (default ``--cpu-memory profiler``): ``torch.profiler`` with
  ``profile_memory=True`` records every allocation and free of PyTorch's CPU
  allocator, forward and backward; the peak is the largest running sum of
  those events, in time order (frees of memory allocated before the step
  are not reported by the profiler, so they cannot lower it).
  ``--cpu-memory dispatch`` uses ``PeakMemoryTracker`` instead, a
  ``TorchDispatchMode`` that sums the live storages returned by ATen calls
  (forward and backward); it misses workspaces allocated inside kernels
  (e.g. oneDNN convolution buffers), so it reads lower.
- CUDA: ``torch.cuda.max_memory_allocated()`` minus the memory allocated
  before the step.
"""
import argparse
import json
import math
import os
import os.path as osp
import statistics
import sys
import time
from typing import Dict, Optional, Sequence, Tuple

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
import torch
from cankd.utils.environment import cpu_model, versions

from _dense_can_loss import DenseCanLoss
from _loss_measurement import (_release, measure_memory, step,
                               timed_step)
from _loss_methods import METHODS, build_methods
from _loss_plot import PLOTTED, plot_sweep
from _loss_report import print_tables, ratio, verdicts

MIB = 2**20
GIB = 2**30

# The FPN levels of a 1333×800 image, padded to multiples of 32.
IMAGE_W, IMAGE_H = 1344, 800
LEVEL_SETS = {'p2-p6': (2, 3, 4, 5, 6), 'p3-p7': (3, 4, 5, 6, 7)}
SWEEP = (16, 32, 64, 128, 256)
QUICK_MAX_SIDE = 64  # --quick: only shapes whose longest side is at most this

# The verdicts compare these: they keep at least 3 timed steps whatever the
# time budget says.
TARGET_METHODS = ('can_dot_product', 'dense', 'pkd', 'floor')

MEMORY_METHODS = {
    'cuda': 'torch.cuda.max_memory_allocated() minus the memory allocated '
    'before the step',
    'profiler': 'torch.profiler(profile_memory=True): largest running sum of '
    'the CPU allocator\'s allocations and frees during forward + backward',
    'dispatch': 'PeakMemoryTracker (TorchDispatchMode summing the live '
    'storages returned by ATen calls in forward + backward; misses kernel '
    'workspaces)',
}


class Shape:

    def __init__(self, label: str, batch: int, channels: int, height: int,
                 width: int, sweep: bool = False) -> None:
        self.label = label
        self.sweep = sweep
        self.size = (batch, channels, height, width)
        self.pixels = height * width

    def __str__(self) -> str:
        return f'{self.label} {"×".join(map(str, self.size))}'


def level_shapes(levels: Sequence[int], batch: int, channels: int):
    shapes = []
    for level in levels:
        height, width = IMAGE_H, IMAGE_W
        for _ in range(level):  # ceil at each halving, as FPN strides do
            height, width = math.ceil(height / 2), math.ceil(width / 2)
        shapes.append(Shape(f'P{level}', batch, channels, height, width))
    return shapes


def prepare_case(name, module, shape, inputs, device, args, predicted):
    """Plan one method at one shape (skip, or how many steps), then run its
    memory step (which also gives the loss and the student gradient) and its
    warm-up steps. Never raises: failures are results."""
    result = dict(method=name, status='ok')
    if name == 'dense':
        need = 2 * DenseCanLoss.affinity_bytes(shape.size)
        result['dense_estimate_gib'] = need / GIB
        if need > args.max_dense_gib * GIB:
            result['status'] = 'does not fit'
            result['note'] = (f'dense: does not fit (needs ≥{need / GIB:.1f} '
                              f'GiB: 2 × the {need / 2 / GIB:.1f} GiB '
                              f'affinity matrix, > --max-dense-gib '
                              f'{args.max_dense_gib:g})')
            return result
    warmup, repeats = args.warmup, args.repeats
    if predicted is not None:
        result['predicted_s'] = predicted
        if predicted > args.max_step_seconds:
            result['status'] = 'skipped'
            result['note'] = (f'skipped: ~{predicted:.0f} s per step '
                              f'(extrapolated from the previous shape) > '
                              f'--max-step-seconds {args.max_step_seconds:g}')
            return result
        affordable = int(args.case_seconds // max(predicted, 1e-9))
        if affordable < 1 + warmup + repeats:
            # The memory run is the warm-up; keep at least one timed step.
            floor = min(repeats, 3) if name in TARGET_METHODS else 1
            warmup, repeats = 0, max(floor, min(repeats, affordable - 1))
    s_feature, t_feature = inputs
    try:
        module.to(device)
        peak, loss, grad = measure_memory(module, s_feature, t_feature,
                                          device, args.cpu_memory)
        for _ in range(warmup):
            step(module, s_feature, t_feature)
    except RuntimeError as error:  # e.g. out of memory: a result, not a crash
        result['status'] = 'error'
        result['note'] = f'{type(error).__name__}: {str(error)[:200]}'
        return result
    finally:
        _release(module, s_feature, device)
    result.update(warmup=warmup, peak_mib=peak / MIB, loss=loss,
                  _grad=grad, _repeats=repeats)
    return result


def time_interleaved(results, modules, inputs, device) -> None:
    """Time the prepared methods of one shape in rounds, one step of each
    method per round, so that a slow-down of the machine (other processes
    on the same CPUs) hits all of them alike and the ratios of one row stay
    fair. Fills ``time_ms`` (median), ``min_ms``, ``times_ms``."""
    s_feature, t_feature = inputs
    pending = {name: result for name, result in results.items()
               if result['status'] == 'ok'}
    times = {name: [] for name in pending}
    rounds = max((r['_repeats'] for r in pending.values()), default=0)
    for _ in range(rounds):
        for name, result in pending.items():
            if result['status'] != 'ok' or len(times[name]) >= result[
                    '_repeats']:
                continue
            try:
                times[name].append(
                    timed_step(modules[name], s_feature, t_feature, device))
            except RuntimeError as error:
                result['status'] = 'error'
                result['note'] = f'{type(error).__name__}: {str(error)[:200]}'
            finally:
                _release(modules[name], s_feature, device)
    for name, result in pending.items():
        result.pop('_repeats')
        if result['status'] == 'ok':
            result.update(
                time_ms=statistics.median(times[name]) * 1e3,
                min_ms=min(times[name]) * 1e3,
                times_ms=[t * 1e3 for t in times[name]],
                repeats=len(times[name]))


def check_dense(can, dense) -> Optional[dict]:
    """Compare the fast and dense results (loss, student gradient)."""
    if can.get('status') != 'ok' or dense.get('status') != 'ok':
        return None
    grad_diff = (can['_grad'] - dense['_grad']).abs().max().item()
    grad_scale = dense['_grad'].abs().max().item()
    return dict(
        loss_can=can['loss'], loss_dense=dense['loss'],
        loss_abs_diff=abs(can['loss'] - dense['loss']),
        grad_abs_diff=grad_diff, grad_abs_max=grad_scale,
        grad_rel_diff=grad_diff / grad_scale if grad_scale else 0.0)


# --------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark distillation losses (forward + backward)')
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    parser.add_argument('--levels', default='p2-p6', choices=LEVEL_SETS,
                        help='FPN levels of a 1333×800 image')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument(
        '--sweep', type=int, nargs='*', default=None,
        help=f'sides of the square maps of the resolution sweep (default '
        f'{" ".join(map(str, SWEEP))}; no value: no sweep)')
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        choices=METHODS)
    parser.add_argument('--repeats', type=int, default=None,
                        help='timed steps per case (default 5; 3 --quick)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed steps before (default 1)')
    parser.add_argument(
        '--quick', action='store_true',
        help=f'only shapes whose sides are <= {QUICK_MAX_SIDE} (smoke test)')
    parser.add_argument('--max-dense-gib', type=float, default=8.0,
                        help='skip the dense formulation when its estimated '
                        'need exceeds this (GiB)')
    parser.add_argument(
        '--case-seconds', type=float, default=10.0,
        help='time budget of one method at one shape: fewer repeats (at '
        'least 1, 3 for the methods the targets compare, and no warm-up '
        'beyond the memory step) when the step time extrapolated from the '
        'previous shape says it would be exceeded')
    parser.add_argument(
        '--max-step-seconds', type=float, default=20.0,
        help='skip a method at a shape when its extrapolated step time '
        'exceeds this')
    parser.add_argument(
        '--sweep-methods', nargs='+', choices=METHODS,
        default=['can_dot_product', 'can_embedded_gaussian', 'dense', 'pkd',
                 'floor'],
        help='methods run on the square maps of the sweep')
    parser.add_argument(
        '--cpu-memory', default='profiler', choices=('profiler', 'dispatch'),
        help='how peak memory is measured on CPU (see the module doc)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: the CPUs available)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', metavar='PATH', help='write results here')
    parser.add_argument(
        '--plot', metavar='PNG',
        help='draw time and peak memory against pixels, log-log, for '
        '--plot-methods')
    parser.add_argument(
        '--plot-methods', nargs='+', choices=METHODS, default=list(PLOTTED),
        help='methods drawn by --plot (those run)')
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.warmup is None:
        args.warmup = 1
    if args.sweep is None:
        args.sweep = [s for s in SWEEP if not args.quick or s <= 32]
    for names in (args.methods, args.sweep_methods):
        if 'dense' in names and 'can_dot_product' not in names:
            names.append('can_dot_product')  # dense shares its parameters
    args.methods = [m for m in METHODS if m in args.methods]
    args.sweep_methods = [m for m in args.methods if m in args.sweep_methods]
    return args


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        print('--device cuda: no GPU here', file=sys.stderr)
        return 2
    cores = (len(os.sched_getaffinity(0))
             if hasattr(os, 'sched_getaffinity') else os.cpu_count())
    threads = args.threads or cores
    torch.set_num_threads(threads)

    shapes = level_shapes(LEVEL_SETS[args.levels], args.batch, args.channels)
    shapes += [Shape(f'{s}²', args.batch, args.channels, s, s, sweep=True)
               for s in args.sweep]
    if args.quick:
        shapes = [s for s in shapes if max(s.size[2:]) <= QUICK_MAX_SIDE]

    meta = dict(
        command=' '.join([osp.relpath(sys.argv[0])] + sys.argv[1:])
        if argv is None else 'main(' + repr(argv) + ')',
        device=args.device, cpu=cpu_model(), cpus_available=cores,
        torch_threads=torch.get_num_threads(),
        gpu=torch.cuda.get_device_name() if args.device == 'cuda' else None,
        load_average=os.getloadavg(), **versions(),
        repeats=args.repeats, warmup=args.warmup,
        case_seconds=args.case_seconds,
        max_step_seconds=args.max_step_seconds,
        max_dense_gib=args.max_dense_gib,
        memory_method=MEMORY_METHODS['cuda' if args.device == 'cuda' else
                                     args.cpu_memory])
    print('# Loss benchmark')
    print(f'command: {meta["command"]}')
    print(f'versions: python {meta["python"]}, torch {meta["torch"]}, mmcv '
          f'{meta["mmcv"]}, mmengine {meta["mmengine"]}, mmrazor '
          f'{meta["mmrazor"]}, cankd {meta["cankd"]}')
    print(f'device: {args.device}' + (f' ({meta["gpu"]})' if meta['gpu']
                                       else '') +
          f'; CPU: {meta["cpu"]}, {cores} CPUs available; torch threads set '
          f'to {meta["torch_threads"]} (torch.set_num_threads); load average '
          f'at start {meta["load_average"][0]:.2f}')
    print(f'steps: forward + backward of the student feature and the loss '
          f'parameters; time = median of {args.repeats} after '
          f'{args.warmup} warm-up, the methods of a row timed in turn, one '
          f'step each per round (fewer when a step would exceed '
          f'--case-seconds {args.case_seconds:g}; cells with fewer than 3 '
          'timed steps say n=...)')
    print(f'peak memory: {meta["memory_method"]}; inputs and parameters not '
          'counted')
    print('methods: CanLoss (cankd, C\'=C/2, pool 2) dot product / gaussian '
          '/ embedded gaussian; DenseCanLoss = the same dot-product CanLoss '
          'with the HW×N\' affinity materialised; MMRazor PKDLoss, MGD = '
          'MGDConnector(lambda_mgd=0.65) + MGDLoss(alpha_mgd=2e-5), '
          'ChannelWiseDivergence(tau=1); floor = CanLoss\'s four 1×1 convs '
          'only', flush=True)

    modules = build_methods(args.channels, args.methods, args.seed)
    history: Dict[str, Tuple[int, float]] = {}
    rows = {}
    torch.manual_seed(args.seed)
    for shape in sorted(shapes, key=lambda s: s.pixels):
        s_feature = torch.randn(shape.size, device=args.device,
                                requires_grad=True)
        t_feature = torch.randn(shape.size, device=args.device)
        methods = {}
        names = args.sweep_methods if shape.sweep else args.methods
        for name in names:
            predicted = None
            if name in history:
                pixels, seconds = history[name]
                predicted = seconds * (shape.pixels /
                                       pixels)**METHODS[name][1]
            methods[name] = prepare_case(name, modules[name], shape,
                                         (s_feature, t_feature), args.device,
                                         args, predicted)
        time_interleaved(methods, modules, (s_feature, t_feature),
                         args.device)
        for name, result in methods.items():
            if result['status'] == 'ok':
                history[name] = (shape.pixels, result['time_ms'] / 1e3)
        check = None
        if 'dense' in methods:
            check = check_dense(methods['can_dot_product'], methods['dense'])
        for result in methods.values():
            result.pop('_grad', None)
        can = methods.get('can_dot_product')
        rows[shape] = dict(
            shape=shape, methods=methods, check=check, ratios=dict(
                dense_over_can_time=ratio(methods.get('dense'), can,
                                          'time_ms'),
                dense_over_can_mem=ratio(methods.get('dense'), can,
                                         'peak_mib'),
                can_over_pkd_time=ratio(can, methods.get('pkd'), 'time_ms'),
                can_over_floor_time=ratio(can, methods.get('floor'),
                                          'time_ms')))
        print(f'  done {shape}', file=sys.stderr, flush=True)
        del s_feature, t_feature

    ordered = [rows[shape] for shape in shapes]
    print_tables(ordered, args.methods)
    results = verdicts(ordered)
    print('\nTargets (this run):')
    for verdict in results:
        print(f'- {verdict["target"]}: {verdict["status"].upper()} — '
              f'{verdict["detail"]}')
    meta['wall_s'] = time.perf_counter() - started
    meta['load_average_end'] = os.getloadavg()
    print(f'\nrun took {meta["wall_s"]:.0f} s; load average (1 min) at start '
          f'{meta["load_average"][0]:.2f}, at end '
          f'{meta["load_average_end"][0]:.2f} (above ~0 other processes '
          'shared the CPUs and slowed some steps)')

    if args.plot:
        drawn = plot_sweep(
            ordered, {m: METHODS[m][0] for m in args.plot_methods},
            f'{args.batch}×{args.channels}-channel maps, {args.device} '
            f'({meta["cpu"] if args.device == "cpu" else meta["gpu"]}, '
            f'{meta["torch_threads"]} threads), torch {meta["torch"]}; '
            f'median of {args.repeats}', args.plot)
        print(f'\nplot ({", ".join(METHODS[m][0] for m in drawn)}): '
              f'{args.plot}')
    if args.json:
        payload = dict(
            meta=meta,
            results=[
                dict(label=row['shape'].label, shape=list(row['shape'].size),
                     methods=row['methods'], ratios=row['ratios'],
                     check=row['check']) for row in ordered
            ],
            verdicts=results)
        with open(args.json, 'w') as f:
            json.dump(payload, f, indent=2)
        print(f'\nwrote {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
