# Copyright (c) cankd contributors. All rights reserved.
"""The pre-flight of a distillation config, offline, before a multi-day job.

    python tools/analysis/check_config.py CONFIG                 # every pair
    python tools/analysis/check_config.py CONFIG --list-modules  # candidates
    python tools/analysis/check_config.py CONFIG --train-steps 2 # dry run

Builds teacher and student (nothing is downloaded), runs both once on a
random image and prints every distilled pair: loss and weight, recorders,
connector, shapes, strides, channels, parameters. Every problem is printed
with its fix; the exit code is 0 only when every pair is consistent (and,
with --train-steps, the training steps passed).
"""
import argparse
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
from cankd.utils.build import build_model_offline
from cankd.utils.distill_pairs import format_pairs_table, inspect_distill_pairs
from cankd.utils.preflight import (candidate_modules, dry_run, format_dry_run,
                                   format_modules_table, init_weights_offline,
                                   load_teacher_offline)
from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a distillation config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--image-size', type=int, nargs=2, default=None, metavar=('H', 'W'),
        help='random image size, a multiple of the largest stride '
        '(default 256 256; 320 320 with --train-steps)')
    parser.add_argument(
        '--list-modules', action='store_true',
        help='list the modules of student and teacher a recorder can hold, '
        'with data_idx, shape, stride and channels')
    parser.add_argument(
        '--train-steps', type=int, default=0, metavar='N',
        help='dry run: N real training steps (forward, backward, optimiser '
        'step) on random images')
    parser.add_argument(
        '--batch-size', type=int, default=2, help='images per dry-run step')
    parser.add_argument(
        '--use-data', action='store_true',
        help="dry run on the config's own training data instead of random "
        'images')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings')
    return parser.parse_args()


def _data_batches(cfg: Config, steps: int) -> list:
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == steps:
            break
    return batches


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    image_size = tuple(args.image_size or
                       ((320, 320) if args.train_steps else (256, 256)))
    try:
        algorithm = build_model_offline(cfg)
    except (KeyError, TypeError, ValueError) as error:
        # A recorder source that is not a module, an unknown override, a
        # misspelt argument of a module (e.g. CanLoss's).
        print(f'ERROR: {error}', file=sys.stderr)
        return 1
    if not hasattr(algorithm, 'distiller'):
        print(f'ERROR: {type(algorithm).__name__} is not a distillation '
              'algorithm.', file=sys.stderr)
        return 1
    print(f'config:  {args.config}')
    print(f'teacher: {type(algorithm.teacher).__name__}, '
          f'student: {type(algorithm.student).__name__}, '
          f'teacher_ckpt: {cfg.model.get("teacher_ckpt")}')
    if args.list_modules:
        for side in ('student', 'teacher'):
            print(f'\n{side} ({type(getattr(algorithm, side)).__name__}):')
            print(format_modules_table(
                candidate_modules(getattr(algorithm, side), image_size)))
        print()

    pairs = inspect_distill_pairs(algorithm, image_size)
    print(format_pairs_table(pairs))
    problems = [p for pair in pairs for p in pair.problems()]
    if not pairs:
        problems.append('no distillation loss compares a student and a '
                        'teacher feature (each loss mapping needs one '
                        'argument with from_student=True and one with '
                        'from_student=False).')
    for problem in problems:
        print(f'ERROR: {problem}', file=sys.stderr)
    print('pairs: OK' if not problems else f'{len(problems)} problem(s)')
    if problems or not args.train_steps:
        return 1 if problems else 0

    for skipped in init_weights_offline(algorithm):
        print(f'skipped pretrained weights (offline): {skipped}')
    random_teacher = load_teacher_offline(algorithm,
                                          cfg.model.get('teacher_ckpt'))
    if random_teacher:
        print(f'WARNING: THE TEACHER IS RANDOM ({random_teacher}): this dry '
              'run checks the pipeline, not what the student learns. '
              'Training itself refuses a teacher without weights.')
    batches = _data_batches(cfg, args.train_steps) if args.use_data else None
    report = dry_run(algorithm, cfg, args.train_steps, batches,
                     args.batch_size, image_size)
    print(format_dry_run(report))
    failures = report.failures()
    for failure in failures:
        print(f'ERROR: {failure}', file=sys.stderr)
    print('dry run: OK' if not failures else 'dry run: FAILED')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
