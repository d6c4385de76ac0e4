# Copyright (c) cankd contributors. All rights reserved.
"""What a training job holds for its whole life: the work dir's lock (rank
0), and an explanation when another rank stalls."""
import contextlib
from typing import Iterator

from mmengine.config import Config

from ..compat.distributed import dist_timeout, end_distributed
from .collective_timeout import explain_collective_timeout
from .work_dir_lock import WorkDirLock, is_global_rank_zero


@contextlib.contextmanager
def training_job(cfg: Config) -> Iterator[None]:
    """Run the block as the only training job of ``cfg.work_dir``.

    Rank 0 holds :class:`~cankd.utils.work_dir_lock.WorkDirLock` (a second
    job in the same work dir fails with
    :class:`~cankd.utils.work_dir_lock.WorkDirInUseError`); a collective
    operation that times out raises
    :class:`~cankd.utils.collective_timeout.CollectiveTimeoutError` naming
    the rank and the timeout. A block that ends normally ends the process
    group too, so that a finished job exits cleanly.

    Args:
        cfg (Config): The training config, with ``work_dir`` set.
    """
    lock = WorkDirLock(cfg.work_dir) if is_global_rank_zero() else None
    with lock or contextlib.nullcontext():
        with explain_collective_timeout(dist_timeout(cfg)):
            yield
        end_distributed()
