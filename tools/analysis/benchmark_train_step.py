# Copyright (c) cankd contributors. All rights reserved.
"""Time one full training iteration on CPU: the student alone, CanKD
distillation and MMRazor's PKD distillation of the same student.

    python tools/analysis/benchmark_train_step.py [--config CONFIG]
        [--iters 20] [--warmup 3] [--batch-size 8] [--num-batches 4]
        [--random-data] [--threads N] [--json PATH]

Variants, all built with ``cankd.utils.build.build_model_offline`` from one
distillation config (default: the demo's
``configs/demo/cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py``):

- ``student``: the config's student (``model.architecture``) alone, the
  plain RetinaNet ``train_step``.
- ``cankd``: the config as it is (``FpnTeacherDistill``, one ``CanLoss`` per
  distilled FPN level).
- ``pkd``: the same config with every distillation loss replaced by
  ``dict(type='PKDLoss', loss_weight=10)`` (MMRazor's RetinaNet weight, as
  in the detection reproduction) and the loss arguments renamed
  ``s_feature``/``t_feature`` -> ``preds_S``/``preds_T``.

An iteration is ``model.train_step(batch, optim_wrapper)`` with the
config's ``optim_wrapper`` built by mmengine (the demo's: AdamW, gradient
clipping), i.e. data preprocessing, forward (teacher backbone +
neck, student, losses), backward and the optimiser step: what a user sees
per iteration in the training log, without data loading.

Batches: ``--num-batches`` batches of ``--batch-size`` images, made once
before timing from the first images of the config's train dataset (its
train pipeline: ``data/fashion_det/train`` resized to 128×128, random flip
drawn once) and cycled; every variant gets the same batches. With
``--random-data``, random uint8 images of the config's ``image_size`` with
three random boxes each, packed by ``PackDetInputs`` (no dataset needed).

Timing: the variants take turns, one iteration each, so that a change of
load on a shared machine hits them alike; per variant, the median (and the
25th-75th percentiles) of ``--iters`` iterations after ``--warmup``.
The min column is the least disturbed iteration. On a machine shared with
other jobs, ``--threads 1`` gives steadier times than several threads that
wait for each other on busy cores.

Weights: every model is built from the same seed with PyTorch's default
initialisation (``build_model_offline`` loads no checkpoint and runs no
``init_weights``), so the first losses are large; the cost of an iteration
does not depend on the weights. Run from the repository root (the config's
``data_root`` is relative).
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import random
import statistics
import sys
import time
from typing import Dict, List

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
import numpy as np
import torch
from cankd.utils import atomic_write
from cankd.utils.build import build_model_offline
from cankd.utils.environment import cpu_model
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    ROOT, 'configs', 'demo',
    'cankd_retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py')
# MMRazor's RetinaNet weight, as in configs/demo/pkd_*_fashion.py.
PKD_LOSS = dict(type='PKDLoss', loss_weight=10)
PKD_KEYS = {'s_feature': 'preds_S', 't_feature': 'preds_T'}
VARIANTS = {
    'student': 'student alone (RetinaNet train_step)',
    'cankd': 'FpnTeacherDistill + CanLoss (the config)',
    'pkd': "FpnTeacherDistill + PKDLoss(loss_weight=10)",
}


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
def variant_configs(cfg: Config) -> Dict[str, Config]:
    """The three configs compared, from one distillation config."""
    student = copy.deepcopy(cfg)
    student.model = copy.deepcopy(cfg.model.architecture)
    pkd = copy.deepcopy(cfg)
    distiller = pkd.model.distiller
    distiller.distill_losses = {
        name: dict(PKD_LOSS) for name in distiller.distill_losses
    }
    distiller.loss_forward_mappings = {
        name: {PKD_KEYS.get(key, key): value
               for key, value in mapping.items()}
        for name, mapping in distiller.loss_forward_mappings.items()
    }
    return dict(student=student, cankd=copy.deepcopy(cfg), pkd=pkd)


def build_variant(cfg: Config, seed: int):
    """The model (train mode) and its ``OptimWrapper``."""
    from mmengine.optim import build_optim_wrapper
    torch.manual_seed(seed)
    model = build_model_offline(cfg)
    model.train()
    return model, build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))


def describe_losses(model) -> str:
    distiller = getattr(model, 'distiller', None)
    if distiller is None:
        return '-'
    types = [type(loss).__name__ for loss in distiller.distill_losses.values()]
    return ', '.join(f'{types.count(t)}× {t}' for t in dict.fromkeys(types))


# --------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------
def _scope(cfg: Config) -> str:
    return cfg.model.architecture.get('_scope_',
                                      cfg.get('default_scope', 'mmdet'))


def dataset_batches(cfg: Config, batch_size: int,
                    num_batches: int) -> List[dict]:
    """Batches of the first images of the config's train dataset, through
    its train pipeline, collated as the dataloader does."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, DefaultScope
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ann_file = osp.join(dataset_cfg.get('data_root', ''),
                        dataset_cfg.get('ann_file', ''))
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'{ann_file} not found: run from the repository root after '
            'python tools/data/make_fashion_mosaics.py, or pass '
            '--random-data.')
    with DefaultScope.overwrite_default_scope(_scope(cfg)):
        dataset = DATASETS.build(dataset_cfg)
    needed = batch_size * num_batches
    if len(dataset) < needed:
        raise ValueError(f'The dataset has {len(dataset)} images; '
                         f'{needed} are needed.')
    samples = [dataset[i] for i in range(needed)]
    return [pseudo_collate(samples[i:i + batch_size])
            for i in range(0, needed, batch_size)]


def random_batches(cfg: Config, batch_size: int,
                   num_batches: int, seed: int = 0) -> List[dict]:
    """Random images of the config's ``image_size`` with 3 random boxes
    each, packed by ``PackDetInputs``."""
    from mmdet.datasets.transforms import PackDetInputs
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.dataset import pseudo_collate
    height, width = cfg.get('image_size', (128, 128))
    num_classes = cfg.model.architecture.bbox_head.num_classes
    rng = np.random.default_rng(seed)
    pack = PackDetInputs()
    batches = []
    for _ in range(num_batches):
        samples = []
        for _ in range(batch_size):
            xy = rng.uniform(0, [width * 0.6, height * 0.6], size=(3, 2))
            wh = rng.uniform(16, [width * 0.4, height * 0.4], size=(3, 2))
            boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
            samples.append(pack(dict(
                img=rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
                img_id=0, img_path='', ori_shape=(height, width),
                img_shape=(height, width), scale_factor=(1.0, 1.0),
                flip=False, flip_direction=None,
                gt_bboxes=HorizontalBoxes(boxes),
                gt_bboxes_labels=rng.integers(0, num_classes, 3),
                gt_ignore_flags=np.zeros(3, dtype=bool))))
        batches.append(pseudo_collate(samples))
    return batches


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------
def loss_values(log_vars: dict) -> Dict[str, float]:
    return {k: float(v.detach()) if torch.is_tensor(v) else float(v)
            for k, v in log_vars.items()}


def summarise(times: List[float]) -> dict:
    ms = sorted(t * 1000 for t in times)
    quartiles = (statistics.quantiles(ms, n=4, method='inclusive')
                 if len(ms) > 1 else
                 [ms[0], ms[0], ms[0]])
    return dict(median_ms=statistics.median(ms), p25_ms=quartiles[0],
                p75_ms=quartiles[2], min_ms=ms[0], max_ms=ms[-1],
                times_ms=[t * 1000 for t in times])


def benchmark(models: dict, batches: List[dict], iters: int,
              warmup: int) -> Dict[str, dict]:
    """Round-robin ``train_step`` of every variant; returns per variant the
    timing summary and the first and last logged losses."""
    # Each variant gets its own copy: train_step writes batch shapes into
    # the data samples.
    own = {name: copy.deepcopy(batches) for name in models}
    times = {name: [] for name in models}
    logs = {name: [] for name in models}
    for step in range(warmup + iters):
        for name, (model, optim_wrapper) in models.items():
            batch = own[name][step % len(batches)]
            start = time.perf_counter()
            log_vars = model.train_step(batch, optim_wrapper)
            elapsed = time.perf_counter() - start
            if step >= warmup:
                times[name].append(elapsed)
            logs[name].append(loss_values(log_vars))
    results = {}
    for name in models:
        results[name] = dict(summarise(times[name]),
                             first_losses=logs[name][0],
                             last_losses=logs[name][-1])
    return results


def distill_loss(losses: Dict[str, float]) -> float:
    parts = [v for k, v in losses.items() if k.startswith('distill.')]
    return sum(parts) if parts else float('nan')


def format_table(results: Dict[str, dict], what: Dict[str, str]) -> str:
    base = results['student']['median_ms']
    base_min = results['student']['min_ms']
    header = ('variant', 'what', 'median ms/iter', 'p25-p75 ms',
              'vs student', 'extra ms', 'min ms (vs student)',
              'loss first -> last',
              'distill loss first -> last')
    rows = [header]
    for name, r in results.items():
        first, last = r['first_losses'], r['last_losses']
        distill = ('-' if name == 'student' else
                   f'{distill_loss(first):.3f} -> {distill_loss(last):.3f}')
        rows.append((name, what[name], f'{r["median_ms"]:.1f}',
                     f'{r["p25_ms"]:.1f}-{r["p75_ms"]:.1f}',
                     f'{r["median_ms"] / base:.2f}x',
                     f'{r["median_ms"] - base:+.1f}',
                     f'{r["min_ms"]:.1f} ({r["min_ms"] / base_min:.2f}x)',
                     f'{first["loss"]:.3f} -> {last["loss"]:.3f}', distill))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ['| ' + ' | '.join(c.ljust(w) for c, w in zip(row, widths)) +
             ' |' for row in rows]
    lines.insert(1, '|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    return '\n'.join(lines)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time a training iteration: student alone, CanKD, PKD')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='distillation config (default: the demo\'s)')
    parser.add_argument('--iters', type=int, default=20,
                        help='timed iterations per variant (default 20)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations first (default 3)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-batches', type=int, default=4,
                        help='distinct batches, cycled (default 4)')
    parser.add_argument('--random-data', action='store_true',
                        help='random images and boxes instead of the '
                        'config\'s train dataset')
    parser.add_argument('--threads', type=int,
                        help='torch.set_num_threads (default: torch\'s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='also write the results here')
    args = parser.parse_args()
    if args.iters < 1 or args.warmup < 0 or args.batch_size < 1 or \
            args.num_batches < 1:
        parser.error('--iters, --batch-size and --num-batches must be >= 1, '
                     '--warmup >= 0')
    return args


def main() -> int:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if 'distiller' not in cfg.model:
        print(f'{args.config} is not a distillation config.',
              file=sys.stderr)
        return 1
    configs = variant_configs(cfg)
    models = {name: build_variant(c, args.seed)
              for name, c in configs.items()}
    if args.random_data:
        batches = random_batches(cfg, args.batch_size, args.num_batches,
                                 args.seed)
        data = 'random uint8 images, 3 random boxes each'
    else:
        # The pipeline's random flips, drawn once: the same on every run.
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        batches = dataset_batches(cfg, args.batch_size, args.num_batches)
        ds = cfg.train_dataloader.dataset
        data = (f'first {args.batch_size * args.num_batches} images of '
                f'{osp.join(ds.data_root, ds.data_prefix.img)} through the '
                'train pipeline')
    shape = tuple(batches[0]['inputs'][0].shape)
    what = {name: VARIANTS[name] for name in models}
    for name in ('cankd', 'pkd'):
        what[name] = (f'FpnTeacherDistill + '
                      f'{describe_losses(models[name][0])}')
    load = os.getloadavg()[0]
    results = benchmark(models, batches, args.iters, args.warmup)
    meta = dict(
        command=' '.join(sys.argv), config=osp.relpath(args.config),
        cpu=cpu_model(), torch=torch.__version__,
        python=platform.python_version(),
        torch_threads=torch.get_num_threads(), load_average_start=load,
        load_average_end=os.getloadavg()[0], batch_size=args.batch_size,
        image_shape=shape, num_batches=args.num_batches, data=data,
        iters=args.iters, warmup=args.warmup, seed=args.seed,
        optim_wrapper=str(cfg.optim_wrapper.to_dict()))
    print('# Train-step benchmark (CPU)')
    print(f'config: {meta["config"]}')
    print(f'cpu: {meta["cpu"]}; torch {meta["torch"]}, '
          f'{meta["torch_threads"]} threads; load average '
          f'{meta["load_average_start"]:.2f} at start, '
          f'{meta["load_average_end"]:.2f} at end')
    print(f'batch: {args.batch_size} × {shape} ({data}), '
          f'{args.num_batches} distinct batches cycled, same for every '
          'variant')
    print(f'iteration: model.train_step(batch, OptimWrapper) '
          f'({cfg.optim_wrapper.optimizer.type}, clip_grad='
          f'{cfg.optim_wrapper.get("clip_grad")}); variants take turns; '
          f'median of {args.iters} after {args.warmup} warm-up')
    print(format_table(results, what))
    cores = os.cpu_count() or 1
    spread = max(r['p75_ms'] / r['p25_ms'] for r in results.values())
    if spread > 1.3:
        advice = (' or with --threads 1 on a shared one (threads waiting for '
                  'each other on busy cores stall)'
                  if torch.get_num_threads() > 1 else '')
        print(f'WARNING: noisy run (p75/p25 up to {spread:.2f}; load average '
              f'{load:.2f} on {cores} cores at start): other processes took '
              'the CPU for part of the run. The min column is the least '
              f'disturbed iteration; rerun on an idle machine{advice}.')
    elif load >= cores:
        print(f'note: load average {load:.2f} on {cores} cores at start; the '
              f'times are steady (p75/p25 up to {spread:.2f}) but may be '
              'slower than on an idle machine.')
    if 'cankd' in results and 'pkd' in results:
        ratio = results['cankd']['median_ms'] / results['pkd']['median_ms']
        print(f'cankd / pkd (median): {ratio:.2f}x')
    if args.json:
        atomic_write(
            json.dumps(dict(meta=meta, what=what, results=results),
                       indent=2), args.json)
        print(f'saved {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
