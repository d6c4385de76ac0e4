# Copyright (c) cankd contributors. All rights reserved.
"""Robustness to image corruptions (COCO-C; the CanKD paper's
supplementary Table 1): evaluate a model on its clean test set and on
corrupted copies of it, and print its metric per corruption and severity,
mPC (the mean over the corruptions and severities) and rPC (mPC / clean).
The metric is the test evaluator's headline one (detectors: COCO bbox AP,
segmentors: mIoU, classifiers: top-1) unless ``--metric`` names another.

    python tools/test_robustness.py CONFIG CHECKPOINT \
        [--corruptions benchmark | all | noise | blur | weather | digital |
         holdout | NAME ...] [--severities 1 2 3 4 5] \
        [--metric KEY] [--seed 0] [--out RESULTS.json] \
        [--work-dir DIR] [--cfg-options ...] [--launcher pytorch]

CHECKPOINT is a plain (converted) student checkpoint with its plain
config; a distillation checkpoint with a plain config is refused with the
converter command. The corruptions are mmdet's ``Corrupt`` transform
(``imagecorruptions``) right after image loading; the Runner and the
config's evaluator do the rest.

Why not mmdet's own ``tools/analysis_tools/test_robustness.py``: as
shipped in mmdet 3.3.0 it imports ``tools.analysis_tools`` (only
importable with mmdet's ``.mim`` folder on ``PYTHONPATH``), sets
``cfg.model.backbone.init_cfg.type`` (an AttributeError for a backbone
with ``init_cfg=None``, as cankd's demo students), reads
``cfg.dataset_type`` after the whole run (configs that name the dataset
type only in the dataloader crash there), does not import cankd (so
``import mmdet.models`` fails where torchvision's compiled ops do not load,
and a distillation checkpoint loads as random weights), and its
``robustness_eval.py`` counts severities that were not evaluated as AP 0
(``--severities 1`` reports a fifth of the mPC). The logic lives in
``_robustness.py`` beside it.
"""
import argparse
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
from cankd.compat import DistillationCheckpointError
from mmengine.runner import Runner

from _robustness import (CORRUPTION_GROUPS, SEVERITIES,
                         CorruptionUnavailableError, check_corruptions_work,
                         check_severities, evaluate_corruptions, format_table,
                         resolve_corruptions, table_metric)
from _runner_args import add_runner_args, load_runner_config, write_json


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a model on corrupted test images (mPC, rPC)')
    parser.add_argument('config', help='test config (the plain student '
                        'config for a converted checkpoint)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--corruptions', nargs='+', default=['benchmark'],
        help='corruption names or groups: ' + ', '.join(CORRUPTION_GROUPS) +
        ' (default: benchmark, the 15 of COCO-C)')
    parser.add_argument(
        '--severities', nargs='+', type=int, default=list(SEVERITIES),
        help='severities 1-5 (default: all five); the clean test set is '
        'always evaluated')
    parser.add_argument('--metric',
                        help="metric of the table (default: the test "
                        "evaluator's headline one: coco/bbox_mAP, mIoU, "
                        'accuracy/top1)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed set before each evaluation (random '
                        'corruptions are reproducible)')
    parser.add_argument('--out', help='also write the results to this json '
                        'file (every metric of every evaluation, mPC, rPC)')
    add_runner_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        corruptions = resolve_corruptions(args.corruptions)
        severities = check_severities(args.severities)
        check_corruptions_work(corruptions, severities)
    except (ValueError, CorruptionUnavailableError) as error:
        sys.exit(f'ERROR: {error}')
    cfg = load_runner_config(args)
    try:
        metric, scale = table_metric(cfg.test_evaluator, args.metric)
    except ValueError as error:
        sys.exit(f'ERROR: {error}')
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    try:
        results = evaluate_corruptions(runner, corruptions, severities,
                                       metric, args.seed)
    except (DistillationCheckpointError, KeyError) as error:
        sys.exit(f'ERROR: {error.args[0] if error.args else error}')
    if runner.rank != 0:
        return
    print(f'\n{args.checkpoint}\n{format_table(results, scale)}')
    if args.out:
        write_json(results.to_dict(), args.out)
        print(f'saved {args.out}')


if __name__ == '__main__':
    main()
