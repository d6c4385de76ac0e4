# Copyright (c) cankd contributors. All rights reserved.
"""Keep only the student of a distillation checkpoint, with the student's
own config in ``meta['cfg']``: the result loads into the plain mmdet/mmseg
student config, and ``DetInferencer(weights=...)`` /
``MMSegInferencer(None, weights=...)`` need no config and no cankd.

    python tools/model_converters/convert_kd_ckpt_to_student.py CKPT \
        [--out-path DIR/ | --out-path FILE.pth | --inplace]

As MMRazor's converter, ``--out-path DIR`` (a folder: existing, ending in
``/``, or any path not ending in ``.pth``) writes ``DIR/<stem>_student.pth``;
without it, ``<stem>_student.pth`` goes beside the input.
"""
import argparse
import os.path as osp
import sys

import cankd  # noqa: F401  (safe loading of mmengine's checkpoints)
from cankd.compat import load_checkpoint_file
from cankd.utils import atomic_torch_save
from cankd.utils.student_checkpoint import (extract_student,
                                            student_checkpoint_path)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a KD checkpoint to a student-only checkpoint')
    parser.add_argument('checkpoint', help='distillation checkpoint')
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        '--out-path',
        help='a folder (writes <folder>/<checkpoint stem>_student.pth, as '
        "MMRazor's converter) or a file ending in .pth (default: "
        '<checkpoint stem>_student.pth beside the checkpoint)')
    where.add_argument(
        '--inplace', action='store_true', help='replace the input file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out_path = student_checkpoint_path(args.checkpoint, args.out_path,
                                       args.inplace)
    if not args.inplace and osp.abspath(out_path) == osp.abspath(
            args.checkpoint):
        sys.exit(f'ERROR: --out-path {args.out_path} is the input '
                 'checkpoint; pass --inplace to replace it.')
    try:
        result = extract_student(load_checkpoint_file(args.checkpoint,
                                                      'cpu'))
    except ValueError as error:
        sys.exit(f'ERROR: {args.checkpoint}: {error}')
    atomic_torch_save(result.checkpoint, out_path)
    print(f'kept {result.kept} student tensors (architecture.* -> *)')
    for group, count in sorted(result.dropped.items()):
        print(f'dropped {count} {group}.* tensors')
    if result.dropped_entries:
        print(f'dropped entries: {", ".join(result.dropped_entries)}')
    if 'cfg' in result.checkpoint.get('meta', {}):
        print("meta['cfg']: the student's own config (no teacher, no "
              'distiller, no custom_imports of cankd)')
    print(f'saved {out_path}')


if __name__ == '__main__':
    main()
