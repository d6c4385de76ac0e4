# Copyright (c) cankd contributors. All rights reserved.
"""Confusion matrices of several detectors on the same test set, side by
side in one PNG (the CanKD paper's supplementary Figures 1-2), counted by
mmdet's own ``confusion_matrix.py``.

    python tools/test.py CONFIG CKPT --out PREDICTIONS.pkl   # per model
    python tools/visualizations/confusion_matrices.py CONFIG \
        [NAME=]PREDICTIONS.pkl [[NAME=]PREDICTIONS.pkl ...] --out OUT.png \
        [--score-thr 0.3] [--tp-iou-thr 0.5] [--cfg-options ...]

CONFIG gives the test set (any of the models' configs: they share it).
For one model, mmdet's own script does the same as shipped
(``python $(python -c 'import mmdet, os; print(os.path.dirname(
mmdet.__file__))')/.mim/tools/analysis_tools/confusion_matrix.py CONFIG
PREDICTIONS.pkl SAVE_DIR``); this tool exists because that script draws
one model per picture, and comparing models needs them side by side.
"""
import argparse
import os.path as osp
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmdet)
from mmengine.config import Config, DictAction
from mmengine.fileio import load
from mmengine.registry import init_default_scope

from confusion_matrix import (detection_confusion_matrix,
                              plot_confusion_matrices)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Detection confusion matrices side by side')
    parser.add_argument('config', help='config whose test set was predicted')
    parser.add_argument(
        'predictions', nargs='+',
        help='[NAME=]PREDICTIONS.pkl written by tools/test.py --out; NAME '
        'titles its matrix (default: the file name)')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help="detections below it are ignored (mmdet's "
                        'default)')
    parser.add_argument('--tp-iou-thr', type=float, default=0.5,
                        help='IoU at which a detection matches an object')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    return parser.parse_args()


def named_files(values):
    """``NAME=FILE`` or ``FILE`` arguments as (name, file) pairs."""
    for value in values:
        name, sep, path = value.partition('=')
        if not sep:
            name, path = osp.splitext(osp.basename(value))[0], value
        if not osp.isfile(path):
            sys.exit(f'ERROR: {path}: no such predictions file (write it '
                     'with tools/test.py CONFIG CKPT --out PREDICTIONS.pkl).')
        yield name, path


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    classes = dataset.metainfo['classes']
    matrices = {}
    for name, path in named_files(args.predictions):
        try:
            matrices[name] = detection_confusion_matrix(
                dataset, load(path), args.score_thr, args.tp_iou_thr,
                source=path)
        except ValueError as error:
            sys.exit(f'ERROR: {error}')
        counts = matrices[name][:-1]  # rows of objects (not background)
        right = int(counts[:, :-1].trace())
        print(f'\n{name}: {right} matches of the right class, '
              f'{int(counts[:, :-1].sum()) - right} of a wrong class, '
              f'{int(counts[:, -1].sum())} objects missed, '
              f'{int(matrices[name][-1].sum())} detections on background')
    plot_confusion_matrices(
        matrices, classes, args.out,
        args.title or f'score >= {args.score_thr}, IoU >= {args.tp_iou_thr}'
        f' ({len(classes)} classes + background)')
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
