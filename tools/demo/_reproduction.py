# Copyright (c) cankd contributors. All rights reserved.
"""What the CPU-sized reproductions share (reproduce_detection.py,
reproduce_segmentation.py): train one student per method and seed with
``tools/dist_train.sh`` (finished runs are reused, so an interrupted
reproduction continues where it stopped), read the validations back from
mmengine's logs, and write a table, the command, the versions, the hardware
and two plots into the docs between markers.

A reproduction is a :class:`Task` (its methods, metrics, teacher and
schedule) and :func:`main`; the demos import it as ``_reproduction``.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import statistics
import sys
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from cankd.utils import atomic_write
from cankd.utils.environment import cpu_model, versions

from _workflow import ROOT, dist_train, evaluate, step
from reproduction_plots import plot_curves, plot_final


class Method(NamedTuple):
    """One row of a reproduction's table."""
    title: str
    config: str
    distils: bool
    implementation: str


class Task(NamedTuple):
    """What makes a reproduction: detection or segmentation.

    Attributes:
        name (str): ``reproduce_<task>``: the tool's name, its default work
            dir, its docs markers and its plots' file names.
        methods (dict[str, Method]): Command-line name -> method, in table
            order.
        metrics (tuple[tuple[str, str], ...]): mmengine's logged key and
            column title of each reported metric; the first is the one
            plotted and listed per seed. A validation that logged none of
            them (mmdet's CocoMetric with no detection at all) scores 0.
        teacher (str): The teacher's row, formatted with ``iters``.
        digits (int): Decimals of the metrics in the table.
        samples (str): What a student sees per iteration and process
            (``'8 images'``).
        measured (str): What the metrics are, on which images, when.
        schedule (callable): Training iterations -> ``--cfg-options`` of
            that length (the same for every method).
        fetch_data (callable): Builds or fetches the data and weights.
        teacher_config (str): The teacher's config, to evaluate it.
        train_teacher (callable): ``(work_dir, args)``: trains the teacher
            once (``work_dir/teacher.pth``, ``args.teacher_iters``
            iterations; cached afterwards).
        defaults (dict): Defaults of ``--iters``, ``--val-interval`` and
            ``--teacher-iters``.
    """
    name: str
    methods: Dict[str, Method]
    metrics: tuple
    teacher: str
    digits: int
    samples: str
    measured: str
    schedule: Callable[[int], List[str]]
    fetch_data: Callable[[], None]
    teacher_config: str
    train_teacher: Callable[[str, argparse.Namespace], object]
    defaults: Dict[str, int]

    @property
    def docs_markers(self) -> tuple:
        return (f'<!-- {self.name}: begin (written by the tool) -->',
                f'<!-- {self.name}: end -->')

    @property
    def plot_alts(self) -> tuple:
        label = self.metrics[0][1]
        return (f'validation {label} against training iteration, mean and '
                '± 1 std band over seeds',
                f'final {label} per method, mean ± std over seeds')


def reported(task: Task, record: dict) -> Dict[str, float]:
    """The reported metrics of one validation record (0 when absent)."""
    return {key: record.get(key, 0.0) for key, _ in task.metrics}


def prepare_teacher(task: Task, work: str,
                    args: argparse.Namespace) -> Dict[str, float]:
    """The data, the teacher (trained once) and its ``tools/test.py``
    metrics."""
    step('data')
    task.fetch_data()
    task.train_teacher(work, args)
    return reported(
        task, evaluate(task.teacher_config, osp.join(work, 'teacher.pth'),
                       osp.join(work, 'eval_teacher')))


def read_run(task: Task, work_dir: str) -> dict:
    """Validation metrics and training time of a finished run.

    Reads mmengine's ``vis_data/scalars.json`` of the run's last log folder:
    ``curve`` holds every validation (``iter`` and the metrics), the final
    one is also at the top level. The time per iteration is the median of
    the logged windows after the first (which holds the warm-up).
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
            else:  # a validation
                curve.append(dict(reported(task, record), iter=record['step']))
    if not curve:
        raise ValueError(f'{work_dir} logged no validation: did its '
                         'training finish?')
    metrics = {key: curve[-1][key] for key, _ in task.metrics}
    timed = train_times[1:] or train_times
    return dict(metrics,
                seconds_per_iter=statistics.median(timed) if timed else None,
                curve=curve)


def final_point(task: Task, result: dict) -> List[dict]:
    """The curve of a run recorded before curves were: its final metrics."""
    return [dict({key: result[key] for key, _ in task.metrics},
                 iter=result['iters'])]


def train_run(task: Task, work: str, method: str, seed: int,
              args: argparse.Namespace) -> dict:
    """Train one method with one seed, or reuse the finished run."""
    work_dir = osp.join(work, f'{method}_seed{seed}')
    done = osp.join(work_dir, 'result.json')
    if osp.isfile(done):
        with open(done) as f:
            result = json.load(f)
        if result['iters'] == args.iters:
            step(f'{method}, seed {seed}: finished before, reused')
            if 'curve' not in result:
                result.update(curve=final_point(task, result),
                              curve_recorded=False)
            return result
    step(f'{method}, seed {seed}: {args.iters} iterations in {args.gpus} '
         'processes')
    # Ten logged windows where the run is long enough; short runs still
    # log a time.
    log_interval = max(1, min(20, args.iters // 10))
    # Every method validates at the same iterations. Validating is not
    # neutral to training: each validation's DataLoader draws its seed from
    # torch's global generator, which shifts the later dropout masks, so a
    # run validated every 100 iterations is not bit-identical to the demo's
    # run of the same seed (validated once). Validations log the iteration
    # as their step, not the epoch (always 0 in an iteration-based
    # schedule).
    options = [*task.schedule(args.iters),
               f'train_cfg.val_interval={args.val_interval}',
               f'randomness.seed={seed}',
               f'default_hooks.logger.interval={log_interval}',
               'default_hooks.logger.log_metric_by_epoch=False']
    if task.methods[method].distils:
        options.append(
            f'model.teacher_ckpt={osp.join(work, "teacher.pth")}')
    seconds = dist_train(task.methods[method].config, work_dir, args.gpus,
                         options)
    result = dict(read_run(task, work_dir), method=method, seed=seed,
                  iters=args.iters, wall_seconds=seconds)
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


def mean_std(values: Sequence[float], digits: int) -> str:
    if len(values) < 2:
        return f'{values[0]:.{digits}f}'
    return (f'{statistics.mean(values):.{digits}f} ± '
            f'{statistics.stdev(values):.{digits}f}')


def format_report(task: Task, args: argparse.Namespace,
                  teacher: Dict[str, float], runs: List[dict],
                  elapsed: float) -> str:
    """The markdown that goes into the docs."""
    seeds = ' '.join(str(s) for s in args.seeds)
    first, first_title = task.metrics[0]
    lines = [
        f'Students: {args.iters} iterations × {args.gpus} process(es) × '
        f'{task.samples} (seeds {seeds}), same schedule for every method; '
        f'metrics: {task.measured}; mean ± sample std over seeds. '
        'Validated every '
        f'{args.val_interval} iterations for the curves.'
        + final_only_note(runs), '',
        '| model | ' + ' | '.join(title for _, title in task.metrics) +
        f' | s/iter | {first_title} per seed | implementation |',
        '|---' * (len(task.metrics) + 4) + '|',
        f'| {task.teacher.format(iters=args.teacher_iters)} | ' +
        ' | '.join(f'{teacher[key]:.{task.digits}f}'
                   for key, _ in task.metrics) + ' | — | — | '
        f'{task.methods["none"].implementation} |',
    ]
    for method in args.methods:
        mine = sorted((r for r in runs if r['method'] == method),
                      key=lambda r: r['seed'])
        cells = [mean_std([r[key] for r in mine], task.digits)
                 for key, _ in task.metrics]
        times = [r['seconds_per_iter'] for r in mine
                 if r['seconds_per_iter'] is not None]
        time_cell = f'{statistics.mean(times):.3f}' if times else '—'
        per_seed = ', '.join(f'{r[first]:.{task.digits}f}' for r in mine)
        spec = task.methods[method]
        lines.append(f'| {spec.title} | ' + ' | '.join(cells) +
                     f' | {time_cell} | {per_seed} | {spec.implementation} |')
    version_text = ', '.join(f'{k} {v}' for k, v in versions().items())
    cpus = len(os.sched_getaffinity(0))
    lines += [
        '', '```text',
        ' '.join([f'command: python tools/demo/{task.name}.py',
                  *map(shlex.quote, sys.argv[1:])]),
        f'versions: {version_text}',
        f'hardware: {cpu_model()}, {cpus} CPUs available, no GPU',
        f'wall time of this invocation: {elapsed / 60:.1f} min (runs '
        'reused from an earlier invocation cost nothing here)',
        '```',
    ]
    return '\n'.join(lines)


def write_docs_section(path: str, markers: tuple, text: str) -> None:
    """Replace the text between the markers in ``path`` (append them when
    they are missing), writing the file atomically."""
    begin, end = markers
    with open(path) as f:
        content = f.read()
    section = f'{begin}\n{text}\n{end}'
    if begin in content and end in content:
        head, rest = content.split(begin, 1)
        content = head + section + rest.split(end, 1)[1]
    else:
        content = content.rstrip('\n') + '\n\n' + section + '\n'
    atomic_write(content, path)


def parse_args(task: Task,
               argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=f'CPU-sized reproduction: {task.name}')
    parser.add_argument('--work-dir', default=f'work_dirs/{task.name}')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=task.defaults['iters'],
                        help='training iterations of each student run')
    parser.add_argument('--val-interval', type=int,
                        default=task.defaults['val_interval'],
                        help='iterations between validations (the curves)')
    parser.add_argument('--teacher-iters', type=int,
                        default=task.defaults['teacher_iters'])
    parser.add_argument('--methods', nargs='+', choices=list(task.methods),
                        default=list(task.methods))
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


def main(task: Task, argv: Optional[Sequence[str]] = None) -> None:
    """Run (or continue) a reproduction and report it."""
    args = parse_args(task, argv)
    start = time.time()
    work = osp.join(ROOT, args.work_dir)
    os.makedirs(work, exist_ok=True)
    teacher = prepare_teacher(task, work, args)
    runs = [
        train_run(task, work, method, seed, args)
        for seed in args.seeds for method in args.methods
    ]
    report = format_report(task, args, teacher, runs, time.time() - start)
    atomic_write(json.dumps(dict(teacher=teacher, runs=runs), indent=1),
                 osp.join(work, 'results.json'))
    plot_dir = work if args.no_docs else osp.join(ROOT, args.plot_dir)
    titles = {method: task.methods[method].title for method in args.methods}
    plots = [
        plot_curves(teacher, runs, titles, task.metrics[0],
                    osp.join(plot_dir, f'{task.name}_curves.png')),
        plot_final(teacher, runs, titles, task.metrics[0],
                   osp.join(plot_dir, f'{task.name}_final.png')),
    ]
    print('\n' + report + '\n\nplots: ' + ', '.join(plots))
    if not args.no_docs:
        docs = osp.join(ROOT, args.docs)
        report += '\n\n' + '\n\n'.join(
            f'![{alt}]({osp.relpath(path, osp.dirname(docs))})'
            for alt, path in zip(task.plot_alts, plots))
        write_docs_section(docs, task.docs_markers, report)
        print(f'\nwritten into {args.docs}')
