# Copyright (c) cankd contributors. All rights reserved.
"""One training job per work dir.

Two jobs writing the same work dir overwrite each other's checkpoints and
``last_checkpoint``; the second one is usually a mistake (a relaunch while
the first job's workers still run). :class:`WorkDirLock` is held by rank 0
of a training job for its whole life: a lock file records the holder's host
and pid, and an ``flock`` on it tells a live holder from a dead one (the
kernel drops the ``flock`` when the holder dies, however it dies). A lock
left by a dead job is taken over with a message.
"""
import logging
import errno
import os
import os.path as osp
import socket
from typing import Optional

from mmengine.logging import print_log

try:
    import fcntl
except ImportError:  # Windows: no flock, the lock is not enforced
    fcntl = None

LOCK_NAME = 'cankd_train.lock'


class WorkDirInUseError(RuntimeError):
    """Another live job holds the work dir."""


class WorkDirLock:
    """An exclusive lock on a work dir, as a context manager.

    Args:
        work_dir (str): The work dir; created if missing.
        name (str): The lock file's name inside it.
    """

    def __init__(self, work_dir: str, name: str = LOCK_NAME) -> None:
        self.path = osp.join(work_dir, name)
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            WorkDirInUseError: A live job holds it; the message names its
                host and pid.
        """
        if self.held:
            return
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not self._try_flock(fd):
                holder = _read(fd)
                os.close(fd)
                raise WorkDirInUseError(
                    f'The work dir {osp.dirname(self.path)} is in use by '
                    f'another training job ({holder or "holder unknown"}, '
                    f'lock file {self.path}). Wait for it to finish or stop '
                    'it, or give this job another --work-dir.')
            # The previous holder may have removed the file between our open
            # and our flock: then we locked a file nobody else can see.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        previous = _read(fd)
        if previous:
            print_log(
                f'Taking over {self.path}: the job that held it '
                f'({previous}) is no longer running.', logger='current',
                level=logging.WARNING)
        os.ftruncate(fd, 0)
        os.write(fd, f'host={socket.gethostname()} pid={os.getpid()}\n'
                 .encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up and remove the lock file."""
        if not self.held:
            return
        try:
            # Unlink while still holding the flock, so that no one locks the
            # old file after we let go (see the _same_file check).
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    @staticmethod
    def _try_flock(fd: int) -> bool:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES,
                               errno.EWOULDBLOCK):
                return False
            if error.errno == errno.ENOLCK:
                # A filesystem without locks (some network mounts): better
                # to train unprotected than not at all.
                print_log(f'Cannot lock {error.filename or "the work dir"} '
                          '(no lock support); not protected against a '
                          'second job.', logger='current',
                          level=logging.WARNING)
                return True
            raise
        return True


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 4096).decode('utf-8', errors='replace').strip()


def _same_file(fd: int, path: str) -> bool:
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)


def is_global_rank_zero() -> bool:
    """Whether this process is rank 0 of its job (``RANK`` as torchrun and
    Slurm set it; a process without it is a job of its own)."""
    return os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0')) == '0'
