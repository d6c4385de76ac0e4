# Copyright (c) cankd contributors. All rights reserved.
"""Keep only the student of a distillation checkpoint, ready to load into
the plain mmdet/mmseg student config.

    python tools/model_converters/convert_kd_ckpt_to_student.py CKPT \
        [--out-path OUT | --inplace]
"""
import argparse
import os.path as osp

import cankd  # noqa: F401  (safe checkpoint loading)
from cankd.compat import load_checkpoint_file
from cankd.utils import atomic_torch_save
from cankd.utils.student_checkpoint import extract_student


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a KD checkpoint to a student-only checkpoint')
    parser.add_argument('checkpoint', help='distillation checkpoint')
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        '--out-path',
        help='where to write the student checkpoint (default: '
        '<checkpoint dir>/student_<checkpoint name>)')
    where.add_argument(
        '--inplace', action='store_true', help='replace the input file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.inplace:
        out_path = args.checkpoint
    else:
        out_path = args.out_path or osp.join(
            osp.dirname(args.checkpoint),
            'student_' + osp.basename(args.checkpoint))
    result = extract_student(load_checkpoint_file(args.checkpoint, 'cpu'))
    atomic_torch_save(result.checkpoint, out_path)
    print(f'kept {result.kept} student tensors (architecture.* -> *)')
    for group, count in sorted(result.dropped.items()):
        print(f'dropped {count} {group}.* tensors')
    if result.dropped_entries:
        print(f'dropped entries: {", ".join(result.dropped_entries)}')
    print(f'saved {out_path}')


if __name__ == '__main__':
    main()
