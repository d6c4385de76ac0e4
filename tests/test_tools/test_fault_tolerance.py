# Copyright (c) cankd contributors. All rights reserved.
"""Nothing the user trained is lost: fault injection on a real
``tools/dist_train.sh`` job (2 processes, gloo, a checkpoint every 2
iterations, ``max_keep_ckpts=1``).

Each scenario kills the whole job (launcher and workers, ``SIGKILL``) at a
chosen moment, resumes it with ``--resume`` and checks that the final
weights and optimizer state are bitwise equal to an uninterrupted run's.
Then: a stalled worker ends the job within the distributed timeout with a
message naming the rank and the timeout; a signal to the launcher stops its
workers; a second job in a live job's work dir is refused.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
TOY = Path(__file__).resolve().parent / 'fault_injection'
CONFIG = TOY / 'toy_config.py'
MAX_ITERS = 8

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _children(pid: int) -> List[int]:
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _rank(pid: int) -> int:
    with open(f'/proc/{pid}/environ', 'rb') as f:
        env = dict(item.split(b'=', 1) for item in f.read().split(b'\0')
                   if b'=' in item)
    return int(env[b'RANK'])


class Job:
    """``bash tools/dist_train.sh toy_config.py 2`` in a session of its own,
    as a user's shell would start it.

    Args:
        work_dir (Path): The job's work dir.
        resume (bool): Pass ``--resume``.
        cfg_options (list[str]): ``--cfg-options`` items.
        nproc (int): Processes.
    """

    def __init__(self, work_dir: Path, resume: bool = False,
                 cfg_options=(), nproc: int = 2) -> None:
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir.parent / f'{work_dir.name}.{time.time()}.log'
        cmd = ['bash', 'tools/dist_train.sh', str(CONFIG), str(nproc),
               '--work-dir', str(work_dir)]
        if resume:
            cmd.append('--resume')
        if cfg_options:
            cmd += ['--cfg-options', *cfg_options]
        env = dict(os.environ, OMP_NUM_THREADS='1', PORT=str(_free_port()),
                   PATH=f'{Path(sys.executable).parent}:{os.environ["PATH"]}',
                   PYTHONPATH=os.pathsep.join(
                       [str(ROOT), str(TOY),
                        os.environ.get('PYTHONPATH', '')]))
        self._log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started = time.monotonic()

    @property
    def output(self) -> str:
        return self.log_path.read_text()

    def workers(self) -> Dict[int, int]:
        """``{rank: pid}`` of the live training processes."""
        return {_rank(pid): pid for pid in _children(self.proc.pid)
                if _alive(pid)}

    def wait_for(self, condition: Callable[[], bool], what: str,
                 timeout: float = 240, poll: float = 0.002) -> None:
        """Poll ``condition`` until it holds; fail if the job ends first."""
        end = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f'the job ended before {what}:\n'
                            f'{self.output[-4000:]}')
            if time.monotonic() > end:
                self.kill()
                pytest.fail(f'no {what} within {timeout} s:\n'
                            f'{self.output[-4000:]}')
            time.sleep(poll)

    def kill(self) -> None:
        """SIGKILL the whole job at once, as a pre-emption would."""
        workers = list(self.workers().values())
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=60)
        self._log.close()

    def finish(self, timeout: float = 300) -> str:
        """Wait for a successful end; return the output."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f'the job did not end:\n{self.output[-4000:]}')
        self._log.close()
        assert self.proc.returncode == 0, self.output[-5000:]
        return self.output


def _final_state(work_dir: Path) -> dict:
    ckpt = torch.load(work_dir / f'iter_{MAX_ITERS}.pth', weights_only=True)
    assert ckpt['meta']['iter'] == MAX_ITERS
    return dict(state_dict=ckpt['state_dict'],
                momentum=[s['momentum_buffer'] for s in
                          ckpt['optimizer']['state'].values()])


def _assert_bitwise_equal(actual: dict, expected: dict) -> None:
    assert actual['state_dict'].keys() == expected['state_dict'].keys()
    for key, value in expected['state_dict'].items():
        assert torch.equal(actual['state_dict'][key], value), key
    assert len(actual['momentum']) == len(expected['momentum'])
    for got, want in zip(actual['momentum'], expected['momentum']):
        assert torch.equal(got, want)


def _exists(path: Path) -> Callable[[], bool]:
    return path.is_file


def _temp_files(work_dir: Path, target: str) -> List[Path]:
    return list(work_dir.glob(f'.{target}.*.tmp'))


@pytest.fixture(scope='module')
def reference(tmp_path_factory) -> dict:
    """The final state of an uninterrupted run."""
    work_dir = tmp_path_factory.mktemp('fault') / 'reference'
    Job(work_dir).finish()
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_8.pth']
    return _final_state(work_dir)


def _iter_4_saved(job: Job) -> None:
    record = job.work_dir / 'last_checkpoint'
    job.wait_for(lambda: record.is_file() and record.read_text().endswith(
        'iter_4.pth'), 'checkpoint at iteration 4', poll=0.01)


def _during_training(job: Job) -> None:
    # iter_4 is saved and named in last_checkpoint: kill mid-iteration 5/6.
    _iter_4_saved(job)
    time.sleep(0.2)


def _new_checkpoint_being_written(job: Job) -> None:
    _iter_4_saved(job)
    # Writing and fsyncing 32 MB takes milliseconds: poll without pausing
    # for the 0.6 s until the save of iteration 6 starts.
    job.wait_for(lambda: bool(_temp_files(job.work_dir, 'iter_6.pth')),
                 'temporary file of iter_6.pth', poll=0)


def _old_checkpoint_removed(job: Job) -> None:
    old = job.work_dir / 'iter_2.pth'
    job.wait_for(old.is_file, 'checkpoint at iteration 2')
    job.wait_for(lambda: not old.exists(), 'removal of iter_2.pth')


# (moment to kill at, checkpoint the resumed run must start from)
SCENARIOS = {
    'during_training': (_during_training, 'iter_4.pth'),
    'new_checkpoint_being_written': (_new_checkpoint_being_written,
                                     'iter_4.pth'),
    'old_checkpoint_removed': (_old_checkpoint_removed, 'iter_4.pth'),
}


@pytest.mark.parametrize('moment', list(SCENARIOS))
def test_killed_job_resumes_to_the_same_weights(moment, reference,
                                                tmp_path):
    kill_when, resumed_from = SCENARIOS[moment]
    work_dir = tmp_path / 'work'
    # step_sleep: iterations long enough to kill the job between them.
    job = Job(work_dir, cfg_options=['model.step_sleep=0.3'])
    kill_when(job)
    job.kill()
    left = sorted(p.name for p in work_dir.glob('*.pth'))
    assert resumed_from in left, left
    if moment == 'new_checkpoint_being_written':  # killed mid-write indeed
        assert _temp_files(work_dir, 'iter_6.pth')

    out = Job(work_dir, resume=True).finish()

    assert f'Auto resumed from the latest checkpoint ' \
           f'{work_dir / resumed_from}' in out, out[-3000:]
    _assert_bitwise_equal(_final_state(work_dir), reference)
    # A killed save's temporary file is gone once a later save completed.
    assert not list(work_dir.glob('.*.tmp'))
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_8.pth']


def test_stalled_worker_ends_the_job_within_the_timeout(tmp_path):
    timeout = 10
    job = Job(tmp_path / 'work', cfg_options=[
        'model.step_sleep=0.3', 'train_cfg.max_iters=1000',
        f'env_cfg.dist_cfg.timeout={timeout}'
    ])
    job.wait_for(_exists(job.work_dir / 'iter_2.pth'), 'first checkpoint')
    stalled = job.workers()[1]
    os.kill(stalled, signal.SIGSTOP)
    stalled_at = time.monotonic()
    try:
        job.proc.wait(timeout=timeout + 60)
    finally:
        if _alive(stalled):
            os.kill(stalled, signal.SIGKILL)
    took = time.monotonic() - stalled_at
    out = job.output
    assert job.proc.returncode != 0
    assert f'Rank 0 of 2 waited {timeout} s (env_cfg.dist_cfg.timeout) for ' \
           'rank 1' in out, out[-4000:]
    # The timeout, then seconds to tear the job down (torchrun alone would
    # wait 30 s more for the stopped worker).
    assert took < timeout + 15, took


@pytest.mark.parametrize('sig', ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'])
def test_signal_to_the_launcher_stops_its_workers(sig, tmp_path):
    job = Job(tmp_path / 'work', cfg_options=[
        'model.step_sleep=0.3', 'train_cfg.max_iters=1000'])
    job.wait_for(_exists(job.work_dir / 'iter_2.pth'), 'first checkpoint')
    workers = list(job.workers().values())
    assert len(workers) == 2
    if sig == 'SIGKILL':
        # `kill -9 -- -PGID`: the launcher's process group, which torchrun's
        # workers (each in a session of its own) are not part of.
        os.killpg(job.proc.pid, signal.SIGKILL)
    else:
        job.proc.send_signal(getattr(signal, sig))
    job.proc.wait(timeout=60)
    end = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.1)
    alive = [pid for pid in workers if _alive(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f'workers still running after {sig}'


def test_second_job_in_a_live_work_dir_is_refused(tmp_path):
    work_dir = tmp_path / 'work'
    job = Job(work_dir, cfg_options=[
        'model.step_sleep=0.3', 'train_cfg.max_iters=1000'])
    try:
        job.wait_for(_exists(work_dir / 'iter_2.pth'), 'first checkpoint')
        second = subprocess.run(
            [sys.executable, 'tools/train.py', str(CONFIG), '--work-dir',
             str(work_dir)], cwd=ROOT, capture_output=True, text=True,
            timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1',
                                  PYTHONPATH=f'{ROOT}:{TOY}'))
    finally:
        job.kill()
    assert second.returncode != 0
    assert f'The work dir {work_dir} is in use by another training job ' \
           f'(host={socket.gethostname()} pid=' in second.stderr, \
        second.stderr[-3000:]
