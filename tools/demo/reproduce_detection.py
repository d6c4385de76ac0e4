# Copyright (c) cankd contributors. All rights reserved.
"""A CPU-sized reproduction of the paper's detection claim.

On the Fashion-MNIST mosaics (real product photos, tools/data), the detection
demo's MobileNetV2 RetinaNet teacher is distilled into the same ResNet-18/16
RetinaNet student by CanKD, by MMRazor's PKD, by MMRazor's MGD (P3-P6, each
with the loss weights of its RetinaNet config) and by ACAM-KD (cankd's
unofficial re-implementation, the paper's M = 6, alpha = lambda = 1), and the
student is also trained without distillation. Every method runs the same
schedule for every seed with ``tools/dist_train.sh``; the student's COCO bbox
mAP on the 100 validation mosaics (evaluated by the training run's
validations, every ``--val-interval`` iterations and at the end) and the
training time per iteration are reported as mean ± sample std over seeds.

Finished runs are kept in the work dir and reused, so an interrupted run
continues where it stopped. The table, the command, the versions and the
hardware are written into docs/benchmarks.md (``--docs``) between markers,
with two plots (``--plot-dir``): validation mAP against iteration (mean and
band over seeds) and the final mAP per method (mean, error bars).

    python tools/demo/reproduce_detection.py [--seeds 0 1 2] \\
        [--iters 600] [--methods none cankd pkd mgd acamkd] [--gpus 2]
"""
import argparse
import json
import os
import os.path as osp
import shlex
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence

from cankd.utils import atomic_write
from cankd.utils.environment import cpu_model, versions

# The demo's workflow and configs are the reproduction's.
from _workflow import ROOT, dist_train, evaluate, step
from detection_demo import (CANKD_CFG, CONFIGS, STUDENT_CFG, TEACHER_CFG,
                            fetch_data, schedule, train_teacher)
from reproduction_plots import plot_curves, plot_final

PAIR = 'retinanet-mnv2_retinanet-r18-w16_fpn64_fashion.py'
# Command-line name -> (table name, config, distils from the teacher,
# whose implementation the numbers come from).
METHODS = {
    'none': ('student, no KD', STUDENT_CFG, False, 'mmdet'),
    'cankd': ('student, CanKD', CANKD_CFG, True,
              "cankd's, checked against the paper's formula"),
    'pkd': ('student, PKD (MMRazor)', osp.join(CONFIGS, f'pkd_{PAIR}'), True,
            "MMRazor's"),
    'mgd': ('student, MGD (MMRazor)', osp.join(CONFIGS, f'mgd_{PAIR}'), True,
            "MMRazor's"),
    'acamkd': ('student, ACAM-KD (unofficial)',
               osp.join(CONFIGS, f'acamkd_{PAIR}'), True,
               "cankd's unofficial re-implementation (no official code)"),
}
METRICS = (('coco/bbox_mAP', 'bbox mAP'), ('coco/bbox_mAP_50', 'mAP@50'))
PLOT_ALTS = ('validation bbox mAP against training iteration, mean and '
             '± 1 std band over seeds',
             'final bbox mAP per method, mean ± std over seeds')
DOCS_BEGIN = '<!-- reproduce_detection: begin (written by the tool) -->'
DOCS_END = '<!-- reproduce_detection: end -->'


def coco_metrics(results: dict) -> Dict[str, float]:
    """The reported metrics of an evaluation; mmdet's CocoMetric returns
    none when the model detected nothing at all, which scores 0."""
    return {key: results.get(key, 0.0) for key, _ in METRICS}


def read_run(work_dir: str) -> dict:
    """Validation metrics and training time of a finished run.

    Reads mmengine's ``vis_data/scalars.json`` of the run's last log folder:
    ``curve`` holds every validation (``iter`` and the metrics), the final
    one is also at the top level. The time per iteration is the median of
    the logged windows after the first (which holds the warm-up). A
    validation that found no detection at all logs no metric (mmdet's
    CocoMetric skips empty results): its mAP is 0.
    """
    logs = sorted(
        d for d in os.listdir(work_dir)
        if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir}')
    train_times, curve = [], []
    with open(osp.join(work_dir, logs[-1], 'vis_data', 'scalars.json')) as f:
        for line in f:
            record = json.loads(line)
            if 'loss' in record:
                train_times.append(record['time'])
            else:  # a validation, with or without detections
                curve.append(dict(coco_metrics(record), iter=record['step']))
    if not curve:
        raise ValueError(f'{work_dir} logged no validation: did its '
                         'training finish?')
    metrics = {key: curve[-1][key] for key, _ in METRICS}
    timed = train_times[1:] or train_times
    return dict(metrics,
                seconds_per_iter=statistics.median(timed) if timed else None,
                no_detections=not any(metrics.values()), curve=curve)


def final_point(result: dict) -> List[dict]:
    """The curve of a run recorded before curves were: its final metrics."""
    return [dict({key: result[key] for key, _ in METRICS},
                 iter=result['iters'])]


def train_run(work: str, method: str, seed: int, iters: int, gpus: int,
              val_interval: int) -> dict:
    """Train one method with one seed, or reuse the finished run."""
    _, config, distils, _ = METHODS[method]
    work_dir = osp.join(work, f'{method}_seed{seed}')
    done = osp.join(work_dir, 'result.json')
    if osp.isfile(done):
        with open(done) as f:
            result = json.load(f)
        if result['iters'] == iters:
            step(f'{method}, seed {seed}: finished before, reused')
            if 'curve' not in result:
                result.update(curve=final_point(result),
                              curve_recorded=False)
            return result
    step(f'{method}, seed {seed}: {iters} iterations in {gpus} processes')
    # Ten logged windows where the run is long enough; short runs still
    # log a time.
    log_interval = max(1, min(20, iters // 10))
    # Validating more often changes no training step: the validation
    # pipeline draws no random number and the model returns to train mode.
    # Validations log the iteration as their step, not the epoch (always 0
    # in an iteration-based schedule).
    options = [*schedule(iters), f'train_cfg.val_interval={val_interval}',
               f'randomness.seed={seed}',
               f'default_hooks.logger.interval={log_interval}',
               'default_hooks.logger.log_metric_by_epoch=False']
    if distils:
        options.append(
            f'model.teacher_ckpt={osp.join(work, "teacher.pth")}')
    seconds = dist_train(config, work_dir, gpus, options)
    result = dict(read_run(work_dir), method=method, seed=seed, iters=iters,
                  wall_seconds=seconds)
    # Written last and atomically: its presence marks a finished run.
    atomic_write(json.dumps(result, indent=1), done)
    return result


def final_only_note(runs: List[dict]) -> str:
    """Names the reused runs recorded before curves were, if any."""
    old = [f'{r["method"]} seed {r["seed"]}' for r in runs
           if not r.get('curve_recorded', True)]
    if not old:
        return ''
    return (f' Runs reused from before curves were recorded ({", ".join(old)})'
            ' add only their final point to the curves.')


def mean_std(values: Sequence[float]) -> str:
    if len(values) < 2:
        return f'{values[0]:.3f}'
    return f'{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}'


def format_report(args: argparse.Namespace, teacher: dict,
                  runs: List[dict], elapsed: float) -> str:
    """The markdown that goes into docs/benchmarks.md."""
    seeds = ' '.join(str(s) for s in args.seeds)
    lines = [
        f'Students: {args.iters} iterations × {args.gpus} process(es) × 8 '
        f'images (seeds {seeds}), same schedule for every method; '
        'metrics: COCO bbox on the 100 validation mosaics at the end of '
        'training; mean ± sample std over seeds. Validated every '
        f'{args.val_interval} iterations for the curves.'
        + final_only_note(runs), '',
        '| model | ' + ' | '.join(title for _, title in METRICS) +
        ' | s/iter | mAP per seed | implementation |',
        '|---' * (len(METRICS) + 4) + '|',
        f'| teacher (MobileNetV2, {args.teacher_iters} iterations) | ' +
        ' | '.join(f'{teacher[key]:.3f}' for key, _ in METRICS) +
        ' | — | — | mmdet |',
    ]
    for method in args.methods:
        mine = sorted((r for r in runs if r['method'] == method),
                      key=lambda r: r['seed'])
        cells = [mean_std([r[key] for r in mine]) for key, _ in METRICS]
        times = [r['seconds_per_iter'] for r in mine
                 if r['seconds_per_iter'] is not None]
        time_cell = f'{statistics.mean(times):.3f}' if times else '—'
        per_seed = ', '.join(f'{r[METRICS[0][0]]:.3f}' for r in mine)
        lines.append(f'| {METHODS[method][0]} | ' + ' | '.join(cells) +
                     f' | {time_cell} | {per_seed} | {METHODS[method][3]} |')
    version_text = ', '.join(f'{k} {v}' for k, v in versions().items())
    cpus = len(os.sched_getaffinity(0))
    lines += [
        '', '```text',
        ' '.join(['command: python tools/demo/reproduce_detection.py',
                  *map(shlex.quote, sys.argv[1:])]),
        f'versions: {version_text}',
        f'hardware: {cpu_model()}, {cpus} CPUs available, no GPU',
        f'wall time of this invocation: {elapsed / 60:.1f} min (runs '
        'reused from an earlier invocation cost nothing here)',
        '```',
    ]
    return '\n'.join(lines)


def write_docs_section(path: str, text: str) -> None:
    """Replace the text between the markers in ``path`` (append them when
    they are missing), writing the file atomically."""
    with open(path) as f:
        content = f.read()
    section = f'{DOCS_BEGIN}\n{text}\n{DOCS_END}'
    if DOCS_BEGIN in content and DOCS_END in content:
        head, rest = content.split(DOCS_BEGIN, 1)
        content = head + section + rest.split(DOCS_END, 1)[1]
    else:
        content = content.rstrip('\n') + '\n\n' + section + '\n'
    atomic_write(content, path)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/reproduce_detection')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=600,
                        help='training iterations of each student run')
    parser.add_argument('--val-interval', type=int, default=100,
                        help='iterations between validations (the curves)')
    parser.add_argument('--teacher-iters', type=int, default=400)
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=list(METHODS))
    parser.add_argument('--gpus', type=int, default=2,
                        help='processes of each run (CPU: gloo)')
    parser.add_argument('--docs', default=osp.join('docs', 'benchmarks.md'),
                        help='markdown file to write the table into')
    parser.add_argument('--plot-dir', default=osp.join('docs', 'img'),
                        help='folder of the two plots the docs show')
    parser.add_argument('--no-docs', action='store_true',
                        help='print the table only; plots go to the work '
                        'dir')
    args = parser.parse_args(argv)
    if args.val_interval < 1:
        parser.error(f'--val-interval must be >= 1, got {args.val_interval}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    start = time.time()
    work = osp.join(ROOT, args.work_dir)
    os.makedirs(work, exist_ok=True)
    step('data')
    fetch_data()
    train_teacher(work, args.teacher_iters)
    teacher = coco_metrics(
        evaluate(TEACHER_CFG, osp.join(work, 'teacher.pth'),
                 osp.join(work, 'eval_teacher')))
    runs = [
        train_run(work, method, seed, args.iters, args.gpus,
                  args.val_interval)
        for seed in args.seeds for method in args.methods
    ]
    report = format_report(args, teacher, runs, time.time() - start)
    atomic_write(json.dumps(dict(teacher=teacher, runs=runs), indent=1),
                 osp.join(work, 'results.json'))
    plot_dir = work if args.no_docs else osp.join(ROOT, args.plot_dir)
    titles = {method: METHODS[method][0] for method in args.methods}
    plots = [
        plot_curves(teacher, runs, titles, METRICS[0],
                    osp.join(plot_dir, 'reproduce_detection_curves.png')),
        plot_final(teacher, runs, titles, METRICS[0],
                   osp.join(plot_dir, 'reproduce_detection_final.png')),
    ]
    print('\n' + report + '\n\nplots: ' + ', '.join(plots))
    if not args.no_docs:
        docs = osp.join(ROOT, args.docs)
        report += '\n\n' + '\n\n'.join(
            f'![{alt}]({osp.relpath(path, osp.dirname(docs))})'
            for alt, path in zip(PLOT_ALTS, plots))
        write_docs_section(docs, report)
        print(f'\nwritten into {args.docs}')


if __name__ == '__main__':
    main()
