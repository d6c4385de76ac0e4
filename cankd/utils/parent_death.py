# Copyright (c) cankd contributors. All rights reserved.
"""Workers that end when their launcher ends.

``torchrun`` starts each worker in a session of its own, so a signal to the
launcher's process group never reaches the workers, and if ``torchrun`` is
killed outright (``SIGKILL``, out of memory) it cannot forward anything:
the workers train on, orphaned, and hold the work dir. On Linux,
:func:`exit_with_parent` asks the kernel to kill this process when its
parent dies.
"""
import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def exit_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent exits.

    Args:
        sig (int): The signal. Defaults to ``SIGKILL``, which also ends a
            stopped process; checkpoints are written atomically, so a kill
            at any moment loses nothing that was saved.

    Returns:
        bool: Whether it is in place (Linux only).
    """
    if not sys.platform.startswith('linux'):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6',
                           use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    # The parent may have died before prctl: then we were already re-parented
    # and no signal will come.
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return True
