# Copyright (c) cankd contributors. All rights reserved.
"""Distributed training without CUDA (``torchrun`` on CPU, ``gloo``).

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps the
model in DDP with ``device_ids=[LOCAL_RANK]``; both fail on a machine
without CUDA. Initialising the ``gloo`` process group before the Runner
makes mmengine skip its own initialisation, and ``device_ids=None`` lets DDP
run on CPU. On CUDA machines nothing changes (NCCL, one GPU per process).

The config's ``env_cfg.dist_cfg.timeout`` (seconds, as mmengine reads it for
NCCL) is passed to ``gloo`` too: without it a stalled rank holds the others
for torch's default of 30 minutes.
"""
import datetime
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


def needs_cpu_distributed(launcher: str) -> bool:
    """Whether a distributed launch must fall back to CPU and ``gloo``.

    Args:
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: True for a distributed launcher on a machine without CUDA.
    """
    return launcher != 'none' and not torch.cuda.is_available()


def dist_timeout(cfg: Config) -> Optional[datetime.timedelta]:
    """The timeout of collective operations the config asks for.

    Args:
        cfg (Config): A config; ``env_cfg.dist_cfg.timeout`` is in seconds
            (mmengine's convention), a ``timedelta`` is accepted too.

    Returns:
        datetime.timedelta | None: None when the config sets none (torch's
        default applies).
    """
    timeout = ((cfg.get('env_cfg') or {}).get('dist_cfg') or {}).get('timeout')
    if timeout is None or isinstance(timeout, datetime.timedelta):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or timeout <= 0:
        raise ValueError(
            'env_cfg.dist_cfg.timeout must be a positive number of seconds, '
            f'got {timeout!r}.')
    return datetime.timedelta(seconds=timeout)


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Initialise ``gloo`` and configure CPU DDP when there is no CUDA.

    Idempotent; does nothing with CUDA or without a distributed launcher.

    Args:
        cfg (Config): The training config; its ``model_wrapper_cfg`` is set
            to CPU DDP unless the config already names one.
        launcher (str): The job launcher.

    Returns:
        bool: Whether the CPU fallback is in use.
    """
    if not needs_cpu_distributed(launcher):
        return False
    if launcher != 'pytorch':
        raise ValueError(
            f'--launcher {launcher} needs CUDA; without a GPU, distributed '
            'training runs with torchrun (--launcher pytorch), e.g. '
            'tools/dist_train.sh CONFIG 2.')
    if not dist.is_initialized():
        timeout = dist_timeout(cfg)
        kwargs = {} if timeout is None else dict(timeout=timeout)
        dist.init_process_group(backend='gloo', **kwargs)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if dist.get_rank() == 0:
        timeout = dist_timeout(cfg)
        print_log(
            'No CUDA: distributed training on CPU with gloo, world size '
            f'{dist.get_world_size()}, collective timeout '
            f'{"torch default" if timeout is None else timeout}.',
            logger='current')
    return True


def end_distributed() -> None:
    """Destroy the default process group of a finished job, if any.

    A gloo or NCCL group still alive at interpreter exit has its worker
    threads torn down by static destructors: a rank of a job that finished
    (checkpoint written, last validation logged) can then die with
    ``terminate called without an active exception`` (SIGABRT), and
    torchrun reports the whole job as failed. Call it once every rank has
    left the training or test loop.
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
