# Copyright (c) cankd contributors. All rights reserved.
"""Evaluate a checkpoint: a distillation checkpoint with its distillation
config, or a converted student checkpoint with the student's config.
A distillation checkpoint given with a plain config is refused (it would
be evaluated with random weights), with the converter command to run.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] \
        [--out METRICS.json] [--out PREDICTIONS.pkl]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

``--out`` may be given twice, to write the metrics and the predictions
of one evaluation: a file ending in ``.pkl``/``.pickle`` receives the
predictions, as with mmdet's own ``tools/test.py --out`` (what mmdet's
``confusion_matrix.py`` and ``tools/visualizations/confusion_matrices.py``
read); any other file the metrics, as JSON.
"""
import argparse
import sys
from typing import List, Optional, Tuple

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
from cankd.compat import DistillationCheckpointError
from cankd.compat.distributed import end_distributed
from mmengine.runner import Runner

from _runner_args import add_runner_args, load_runner_config, write_json

PICKLE_SUFFIXES = ('.pkl', '.pickle')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', action='append', default=[],
        help='also write the metrics to this json file, or (a .pkl file) '
        'the predictions; may be given twice')
    add_runner_args(parser)
    return parser.parse_args()


def split_outputs(outs: List[str]) -> Tuple[Optional[str], Optional[str]]:
    """The metrics file and the predictions file among ``--out`` values."""
    predictions = [out for out in outs if out.endswith(PICKLE_SUFFIXES)]
    metrics = [out for out in outs if not out.endswith(PICKLE_SUFFIXES)]
    if len(predictions) > 1 or len(metrics) > 1:
        sys.exit(f'ERROR: --out {" --out ".join(outs)}: give at most one '
                 'metrics file (.json) and one predictions file (.pkl).')
    return (metrics or [None])[0], (predictions or [None])[0]


def predictions_dumper(cfg, out_file: str):
    """mmdet's dumper for mmdet configs (it drops ground truth and encodes
    masks as RLE, as mmdet's tools/test.py), mmengine's otherwise."""
    if cfg.get('default_scope') == 'mmdet':
        from mmdet.evaluation import DumpDetResults
        return DumpDetResults(out_file_path=out_file)
    from mmengine.evaluator import DumpResults
    return DumpResults(out_file_path=out_file)


def main() -> None:
    args = parse_args()
    metrics_out, predictions_out = split_outputs(args.out)
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    if predictions_out:
        runner.test_evaluator.metrics.append(
            predictions_dumper(cfg, predictions_out))
    try:
        metrics = runner.test()
    except DistillationCheckpointError as error:
        sys.exit(f'ERROR: {error}')
    if not metrics:
        print('WARNING: the evaluator returned no metrics; a detector that '
              'predicts nothing above test_cfg.score_thr gets none.',
              file=sys.stderr)
    if metrics_out and runner.rank == 0:
        write_json(metrics, metrics_out)
    end_distributed()  # a clean exit of every rank of dist_test.sh


if __name__ == '__main__':
    main()
