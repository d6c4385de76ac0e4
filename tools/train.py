# Copyright (c) cankd contributors. All rights reserved.
"""Train a distillation (or plain) model from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--resume [CKPT]]
    bash tools/dist_train.sh CONFIG GPUS [same options]
"""
import argparse

import cankd  # noqa: F401  (compat shims before anything imports mmrazor)
from cankd.utils.training_job import training_job
from mmengine.config import Config
from mmengine.runner import Runner

from _runner_args import add_runner_args, load_runner_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when no CKPT is given')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate linearly with the total batch size')
    add_runner_args(parser)
    return parser.parse_args()


def apply_train_args(cfg: Config, args: argparse.Namespace) -> None:
    """Apply --amp, --auto-scale-lr and --resume to the config."""
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(
                f'--amp needs optim_wrapper.type OptimWrapper or '
                f'AmpOptimWrapper, the config has {optim_wrapper}.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'base_batch_size' not in (cfg.get('auto_scale_lr') or {}):
            raise ValueError(
                '--auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                'base_batch_size=N)` in the config, N being the total batch '
                'size its learning rate is meant for.')
        cfg.auto_scale_lr.enable = True
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args)
    apply_train_args(cfg, args)
    # One job per work dir; a stalled rank ends the job with an explanation.
    with training_job(cfg):
        Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
