# Copyright (c) cankd contributors. All rights reserved.
"""Command-line options that ``tools/train.py``, ``tools/test.py`` and
``tools/test_robustness.py`` share, the config they produce, and how the
test tools write their metrics.

The two scripts import it as ``_runner_args``: run as scripts
(``python tools/train.py``), their folder is on ``sys.path``.
"""
import argparse
import json
import os
import os.path as osp

from cankd.compat.distributed import setup_cpu_distributed
from cankd.utils import atomic_write
from cankd.utils.parent_death import exit_with_parent
from mmengine.config import Config, DictAction


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The script's parser.
    """
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_runner_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the shared options.

    Without CUDA, a distributed launch is set up for CPU and ``gloo``. A
    worker started by ``torchrun`` ends when ``torchrun`` ends, even if it
    is killed outright.

    Args:
        args (argparse.Namespace): Parsed options of :func:`add_runner_args`
            plus ``config``.

    Returns:
        Config: The config for ``Runner.from_cfg``.
    """
    if args.launcher == 'pytorch' and 'TORCHELASTIC_RUN_ID' in os.environ:
        exit_with_parent()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    setup_cpu_distributed(cfg, args.launcher)
    return cfg


def write_json(obj, path: str) -> None:
    """Write metrics (or anything holding them) as JSON, atomically.

    Evaluators may return numpy scalars (mmseg's ``IoUMetric``:
    ``np.float32``); they are written as plain numbers.

    Args:
        obj: A JSON-able structure, numpy scalars allowed.
        path (str): Destination.
    """
    atomic_write(json.dumps(obj, indent=2, default=_json_scalar), path)


def _json_scalar(value):
    if hasattr(value, 'item'):
        return value.item()
    raise TypeError(f'Object of type {type(value).__name__} is not JSON '
                    'serializable')
