# Copyright (c) cankd contributors. All rights reserved.
"""Distributed training without CUDA (``torchrun`` on CPU, ``gloo``).

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps the
model in DDP with ``device_ids=[LOCAL_RANK]``; both fail on a machine
without CUDA. Initialising the ``gloo`` process group before the Runner
makes mmengine skip its own initialisation, and ``device_ids=None`` lets DDP
run on CPU. On CUDA machines nothing changes (NCCL, one GPU per process).
"""
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
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if dist.get_rank() == 0:
        print_log(
            'No CUDA: distributed training on CPU with gloo, world size '
            f'{dist.get_world_size()}.', logger='current')
    return True
