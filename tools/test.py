# Copyright (c) cankd contributors. All rights reserved.
"""Evaluate a checkpoint: a distillation checkpoint with its distillation
config, or a converted student checkpoint with the student's config.
A distillation checkpoint given with a plain config is refused (it would
be evaluated with random weights), with the converter command to run.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]
"""
import argparse
import json
import sys

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
from cankd.compat import DistillationCheckpointError
from cankd.utils import atomic_write
from mmengine.runner import Runner

from _runner_args import add_runner_args, load_runner_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='also write the metrics to this json file')
    add_runner_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    try:
        metrics = runner.test()
    except DistillationCheckpointError as error:
        sys.exit(f'ERROR: {error}')
    if not metrics:
        print('WARNING: the evaluator returned no metrics; a detector that '
              'predicts nothing above test_cfg.score_thr gets none.',
              file=sys.stderr)
    if args.out and runner.rank == 0:
        atomic_write(json.dumps(metrics, indent=2, default=_json_scalar),
                     args.out)


def _json_scalar(value):
    """numpy scalars (mmseg's IoUMetric returns np.float32) as Python
    numbers."""
    if hasattr(value, 'item'):
        return value.item()
    raise TypeError(f'Object of type {type(value).__name__} is not JSON '
                    'serializable')


if __name__ == '__main__':
    main()
