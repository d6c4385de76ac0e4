# Copyright (c) cankd contributors. All rights reserved.
"""The other workers ``torchrun`` started on this machine for this job.

When a rank gives up on a collective operation, the job is over. ``torchrun``
then stops the remaining workers with ``SIGTERM`` and waits 30 s (its
failure path ignores ``--shutdown-timeout``) before ``SIGKILL``; a stopped
worker never sees the ``SIGTERM``, so a stall would hold the job that much
longer. :func:`kill_local_peers` ends the job's other local workers at
once. Checkpoints are written atomically, so nothing saved is lost.
"""
import os
import signal
from typing import Dict, List


def _environ(pid: int) -> Dict[str, str]:
    with open(f'/proc/{pid}/environ', 'rb') as f:
        items = f.read().split(b'\0')
    return dict(
        item.decode(errors='replace').split('=', 1) for item in items
        if b'=' in item)


def _parent(pid: int) -> int:
    with open(f'/proc/{pid}/stat') as f:
        # The command name may hold spaces and parentheses: split after it.
        return int(f.read().rsplit(')', 1)[1].split()[1])


def local_peer_pids() -> List[int]:
    """Pids of this job's other workers on this machine: the processes
    with this process's parent and ``TORCHELASTIC_RUN_ID``.

    Returns:
        list[int]: Empty outside ``torchrun`` or without ``/proc``.
    """
    run_id = os.environ.get('TORCHELASTIC_RUN_ID')
    if run_id is None or not os.path.isdir('/proc'):
        return []
    me, parent = os.getpid(), os.getppid()
    peers = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        try:
            if (_parent(pid) == parent
                    and _environ(pid).get('TORCHELASTIC_RUN_ID') == run_id):
                peers.append(pid)
        except (OSError, ValueError, IndexError):
            continue  # gone, or not ours to read
    return sorted(peers)


def kill_local_peers() -> List[int]:
    """``SIGKILL`` :func:`local_peer_pids`.

    Returns:
        list[int]: The pids signalled.
    """
    killed = []
    for pid in local_peer_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        killed.append(pid)
    return killed
