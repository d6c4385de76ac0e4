# Copyright (c) cankd contributors. All rights reserved.
"""Teacher, student and distilled-student activation heatmaps of every
distilled level on one image, as in Figure 4 of the CanKD paper, saved as
one PNG: rows are the distilled levels, columns the teacher, the student
trained without distillation and the distilled student.

    python tools/visualizations/feature_heatmaps.py CONFIG IMAGE \
        --out OUT.png [--checkpoint KD_CKPT] [--baseline-student CKPT] \
        [--teacher-checkpoint CKPT] [--reduction mean_abs|l2] \
        [--cell-size 256] [--alpha 0.5] [--cfg-options ...]

CONFIG is a distillation config. Its distiller's recorders give the
features, so the levels are exactly the distilled ones (the feature each
loss receives, before any connector). The image goes through the config's
test pipeline (annotation loading dropped) and the student's data
preprocessor, which feeds both models in training.

Weights:

- ``--checkpoint``: a distillation checkpoint; ``architecture.*`` is the
  distilled student and, unless ``--teacher-checkpoint`` is given,
  ``teacher.*`` the teacher.
- ``--baseline-student``: a plain student checkpoint (trained without KD,
  or converted with tools/model_converters/convert_kd_ckpt_to_student.py).
- ``--teacher-checkpoint``: a plain teacher checkpoint.

A column without a checkpoint shows the model's random initialisation, and
its title says so.
"""
import argparse
import math
import os.path as osp
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
import cv2
import torch
from cankd.compat import load_checkpoint_file
from cankd.utils import atomic_write
from cankd.utils.build import build_model_offline
from cankd.utils.distill_pairs import distilled_mappings, feature_stride
from cankd.utils.student_checkpoint import (STUDENT_PREFIX, TEACHER_PREFIX,
                                            weights_under)
from mmengine.config import Config, DictAction

from feature_maps import (REDUCTIONS, collect_pair_features, compose_grid,
                          feature_energy, feature_heatmap, load_weights,
                          overlay, prepare_image, select_state_dict)

RANDOM = 'random init (no checkpoint)'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Activation heatmaps of the distilled levels')
    parser.add_argument('config', help='distillation config')
    parser.add_argument('image', help='image file')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument(
        '--checkpoint', help='distillation checkpoint (architecture.* is '
        'the distilled student, teacher.* the teacher)')
    parser.add_argument(
        '--baseline-student', help='plain student checkpoint, trained '
        'without distillation')
    parser.add_argument(
        '--teacher-checkpoint', help='plain teacher checkpoint (default: '
        'teacher.* of --checkpoint)')
    parser.add_argument(
        '--reduction', choices=tuple(REDUCTIONS), default='mean_abs',
        help='mean_abs: channel-mean of |feature| (default); l2: L2 norm '
        'over channels')
    parser.add_argument(
        '--cell-size', type=int, default=256,
        help='longer side of each heatmap, in pixels (default 256)')
    parser.add_argument(
        '--alpha', type=float, default=0.5,
        help='opacity of the heatmap over the image (default 0.5)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings')
    return parser.parse_args()


def _name(path: str) -> str:
    """``folder/file``: enough to tell iter_300.pth of two runs apart."""
    path = osp.normpath(path)
    folder = osp.basename(osp.dirname(osp.abspath(path)))
    return osp.join(folder, osp.basename(path)) if folder else path


def _stride(input_height: int, feature_height: int) -> str:
    """The stride as a row title says it: ``8``, or ``~7.3`` for one that
    is no power of two."""
    stride = feature_stride((1, 1, feature_height, 1), input_height)
    return f'{stride:g}' if math.log2(stride).is_integer() else \
        f'~{stride:.3g}'


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    torch.manual_seed(0)  # the same random init on every run
    algorithm = build_model_offline(cfg)
    if not hasattr(algorithm, 'distiller'):
        print(f'{args.config} builds a {type(algorithm).__name__}, not a '
              'distillation algorithm.', file=sys.stderr)
        return 1
    if not distilled_mappings(algorithm.distiller):
        print('No distillation loss of the config takes a student and a '
              'teacher feature.', file=sys.stderr)
        return 1
    algorithm.eval()
    prepared = prepare_image(cfg, algorithm, args.image)
    kd = (load_checkpoint_file(args.checkpoint, 'cpu')
          if args.checkpoint else None)
    if kd is not None and not weights_under(kd, STUDENT_PREFIX):
        print(f'{args.checkpoint} is not a distillation checkpoint (no '
              'architecture.* weights); pass a plain student checkpoint as '
              '--baseline-student.', file=sys.stderr)
        return 1

    # Teacher
    if args.teacher_checkpoint:
        load_weights(algorithm.teacher,
                     select_state_dict(
                         load_checkpoint_file(args.teacher_checkpoint,
                                              'cpu'), TEACHER_PREFIX),
                     'teacher')
        teacher_note = _name(args.teacher_checkpoint)
    elif kd is not None and weights_under(kd, TEACHER_PREFIX):
        load_weights(algorithm.teacher, select_state_dict(kd, TEACHER_PREFIX),
                     'teacher')
        teacher_note = f'teacher.* of {_name(args.checkpoint)}'
    else:
        teacher_note = RANDOM
    teacher = collect_pair_features(algorithm, prepared.inputs, False)

    # Student without distillation, then the distilled student, in the
    # same module (the recorders hook it).
    initial = {k: v.clone() for k, v in algorithm.student.state_dict().items()}
    if args.baseline_student:
        load_weights(algorithm.student,
                     select_state_dict(
                         load_checkpoint_file(args.baseline_student, 'cpu'),
                         STUDENT_PREFIX), 'baseline student')
        baseline_note = _name(args.baseline_student)
    else:
        baseline_note = RANDOM
    baseline = collect_pair_features(algorithm, prepared.inputs, True)

    if kd is not None:
        load_weights(algorithm.student,
                     select_state_dict(kd, STUDENT_PREFIX),
                     'distilled student')
        distilled_note = _name(args.checkpoint)
    else:
        algorithm.student.load_state_dict(initial)
        distilled_note = RANDOM
    distilled = collect_pair_features(algorithm, prepared.inputs, True)

    # Grid
    valid_h, valid_w = prepared.valid_size
    scale = args.cell_size / max(valid_h, valid_w)
    cell = (max(1, round(valid_h * scale)), max(1, round(valid_w * scale)))
    image = cv2.resize(prepared.image, (cell[1], cell[0]),
                       interpolation=cv2.INTER_LINEAR)
    input_h, input_w = prepared.input_size
    cells, row_titles = [], []
    print(f'max {args.reduction} energy per map, image region, before '
          'normalisation:')
    print(f'{"level":<16}{"teacher":>10}{"student":>10}{"distilled":>11}')
    for t, b, d in zip(teacher, baseline, distilled):
        row = []
        peaks = []
        for pair in (t, b, d):
            heatmap = feature_heatmap(pair.feature, args.reduction,
                                      prepared.input_size,
                                      prepared.valid_size, cell)
            row.append(overlay(image, heatmap, args.alpha))
            energy = feature_energy(pair.feature, args.reduction)
            rows = math.ceil(valid_h * energy.shape[0] / input_h)
            cols = math.ceil(valid_w * energy.shape[1] / input_w)
            peaks.append(float(energy[:rows, :cols].max()))
        cells.append(row)
        height, width = t.feature.shape[-2:]
        stride = _stride(input_h, height)
        level = (f'{t.label} ({t.source})'
                 if (t.label, t.source) == (b.label, b.source) else
                 f'S {b.label} / T {t.label}')
        row_titles.append([t.loss_name, level,
                           f'stride {stride}, {height}x{width}'])
        print(f'{t.loss_name:<16}' +
              ''.join(f'{p:>10.3g}' for p in peaks[:2]) +
              f'{peaks[2]:>11.3g}')
    col_titles = [['teacher', teacher_note],
                  ['student (no distillation)', baseline_note],
                  ['distilled student', distilled_note]]
    header = (f'{osp.basename(args.image)}: {REDUCTIONS[args.reduction]}, '
              'each map normalised to [0, 1]')
    grid = compose_grid(cells, col_titles, row_titles, header,
                        'low -> high activation (per map)')
    ok, encoded = cv2.imencode('.png', grid)
    if not ok:
        raise RuntimeError('PNG encoding failed.')
    atomic_write(encoded.tobytes(), args.out)
    print(f'saved {args.out} ({len(cells)} levels x 3 columns, '
          f'{grid.shape[1]}x{grid.shape[0]} px)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
