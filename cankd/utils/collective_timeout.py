# Copyright (c) cankd contributors. All rights reserved.
"""Say which rank gave up and after how long when a collective operation
times out.

When one rank stalls (stopped, swapping, stuck on I/O), the others wait in
their next all-reduce or barrier until ``env_cfg.dist_cfg.timeout`` and then
fail with a backend message such as ``Timed out waiting 60000ms for recv
operation to complete``. :func:`explain_collective_timeout` turns that into
an error naming the rank, the timeout and what to do, and ends the job's
other workers on this machine at once (see
:mod:`cankd.utils.local_workers`).
"""
import contextlib
import datetime
import logging
from typing import Iterator, Optional

import torch.distributed as dist
from mmengine.logging import print_log

from .local_workers import kill_local_peers

_TIMEOUT_MARKERS = ('timed out', 'timeout')


class CollectiveTimeoutError(RuntimeError):
    """A collective operation did not complete within the timeout."""


def is_collective_timeout(error: BaseException) -> bool:
    """Whether ``error`` is a distributed backend's timeout.

    Args:
        error (BaseException): An exception raised by a training step.

    Returns:
        bool: True for gloo/NCCL timeouts.
    """
    if not isinstance(error, RuntimeError):  # DistBackendError included
        return False
    text = str(error).lower()
    return any(marker in text for marker in _TIMEOUT_MARKERS)


def timeout_message(timeout: Optional[datetime.timedelta]) -> str:
    """The explanation of a collective timeout on this rank.

    Args:
        timeout (datetime.timedelta | None): The process group's timeout.

    Returns:
        str: The message.
    """
    rank, world = dist.get_rank(), dist.get_world_size()
    others = (f'rank {1 - rank}' if world == 2 else
              f'at least one of the other {world - 1} ranks')
    limit = ('the default timeout' if timeout is None else
             f'{timeout.total_seconds():g} s')
    return (
        f'Rank {rank} of {world} waited {limit} (env_cfg.dist_cfg.timeout) '
        f'for {others} in a collective operation and gave up: that rank is '
        'stalled (stopped, swapping, stuck on I/O) or gone. The job stops; '
        'continue it with --resume. If a step legitimately takes longer '
        '(evaluation, saving a large checkpoint), raise '
        'env_cfg.dist_cfg.timeout.')


@contextlib.contextmanager
def explain_collective_timeout(
        timeout: Optional[datetime.timedelta]) -> Iterator[None]:
    """Re-raise a collective timeout in the block as
    :class:`CollectiveTimeoutError` with :func:`timeout_message`, after
    stopping the job's other workers on this machine.

    Args:
        timeout (datetime.timedelta | None): The process group's timeout.
    """
    try:
        yield
    except RuntimeError as error:
        if not (dist.is_available() and dist.is_initialized()
                and is_collective_timeout(error)):
            raise
        message = timeout_message(timeout)
        print_log(message, logger='current', level=logging.ERROR)
        # The job cannot go on; a stalled worker would otherwise hold it
        # for torchrun's 30 s shutdown grace.
        kill_local_peers()
        raise CollectiveTimeoutError(message) from error
