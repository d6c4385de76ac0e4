# Copyright (c) cankd contributors. All rights reserved.
"""Check a distillation config before a multi-day job: build teacher and
student (no checkpoint is downloaded), run both once on a dummy image and
print every distilled pair. Exits non-zero on any mismatch.

    python tools/analysis/check_config.py CONFIG [--image-size H W]
"""
import argparse
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
from cankd.utils.build import build_model_offline
from cankd.utils.distill_pairs import format_pairs_table, inspect_distill_pairs
from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a distillation config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=(256, 256),
        metavar=('H', 'W'),
        help='dummy image size, a multiple of the largest stride')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    algorithm = build_model_offline(cfg)
    if not hasattr(algorithm, 'distiller'):
        print(f'{type(algorithm).__name__} is not a distillation algorithm.')
        return 1
    pairs = inspect_distill_pairs(algorithm, args.image_size)
    print(f'config:  {args.config}')
    print(f'teacher: {type(algorithm.teacher).__name__}, '
          f'student: {type(algorithm.student).__name__}, '
          f'teacher_ckpt: {cfg.model.get("teacher_ckpt")}')
    print(format_pairs_table(pairs))
    problems = [p for pair in pairs for p in pair.problems()]
    for problem in problems:
        print(f'ERROR: {problem}', file=sys.stderr)
    if not pairs:
        print('ERROR: no distillation loss takes s_feature/t_feature.',
              file=sys.stderr)
        return 1
    print('OK' if not problems else f'{len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
