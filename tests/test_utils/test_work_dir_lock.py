# Copyright (c) cankd contributors. All rights reserved.
"""One training job per work dir: a live holder refuses a second job and is
named; a lock left by a dead job is taken over with a message."""
import logging
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from mmengine.logging import MMLogger

from cankd.utils import WorkDirInUseError, WorkDirLock
from cankd.utils.work_dir_lock import LOCK_NAME

HOLD = textwrap.dedent('''
    import time
    from cankd.utils.work_dir_lock import WorkDirLock
    lock = WorkDirLock({work_dir!r})
    lock.acquire()
    print('held', flush=True)
    time.sleep(300)
''')


@pytest.fixture
def other_job(tmp_path):
    """Another process holding the lock of ``tmp_path``."""
    proc = subprocess.Popen(
        [sys.executable, '-c', HOLD.format(work_dir=str(tmp_path))],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'held'
    yield proc
    proc.kill()
    proc.wait()


def test_lock_is_held_and_released(tmp_path):
    with WorkDirLock(str(tmp_path)) as lock:
        assert lock.held
        content = (tmp_path / LOCK_NAME).read_text()
        assert content == f'host={socket.gethostname()} pid={os.getpid()}\n'
    assert not (tmp_path / LOCK_NAME).exists()
    with WorkDirLock(str(tmp_path)):  # free again
        pass


def test_a_live_job_refuses_a_second_one(tmp_path, other_job):
    with pytest.raises(WorkDirInUseError,
                       match=f'in use by another training job '
                       f'\\(host={socket.gethostname()} '
                       f'pid={other_job.pid}, lock file .*{LOCK_NAME}\\)'):
        WorkDirLock(str(tmp_path)).acquire()


def test_the_lock_of_a_dead_job_is_taken_over(tmp_path, other_job, caplog):
    other_job.kill()  # SIGKILL: no chance to clean up
    other_job.wait()
    assert (tmp_path / LOCK_NAME).exists()
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING)
    try:
        with WorkDirLock(str(tmp_path)):
            assert f'pid={os.getpid()}' in (tmp_path / LOCK_NAME).read_text()
    finally:
        logger.removeHandler(caplog.handler)
    assert f'the job that held it (host={socket.gethostname()} ' \
           f'pid={other_job.pid}) is no longer running' in caplog.text
