"""A child process that dies with its parent, however the parent dies (Linux).

`serve` starts the API process and the local worker, the worker starts synthesis processes. If
a parent is SIGKILLed (or crashes) it runs no cleanup, and an orphan would keep serve's port
(granian shares it with SO_REUSEPORT, so a restarted serve would split requests with a stale
API process) or keep computing a job nobody will collect. The kernel's parent-death signal
(`prctl(PR_SET_PDEATHSIG)`) covers every way a parent can die.

Two caveats shape how it is used. The request is made by the child, so a parent that died
before the request took effect sends nothing: `tie_to_parent` checks, after asking, that its
parent is still the one it expected and otherwise signals itself. And the kernel counts the
*thread* that started the child as the parent: children must be started from a thread that
lives as long as the parent process does (the main thread, or a supervising thread that only
ends with it).
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


@functools.cache
def _prctl() -> Callable[..., Any] | None:
    if sys.platform != "linux":
        return None  # no such mechanism elsewhere: children there may outlive a killed parent
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def tie_to_parent(parent_pid: int, sig: signal.Signals) -> None:
    """Have the kernel send this process `sig` when `parent_pid` (its parent) dies; if it is
    already gone, take `sig` now."""
    prctl = _prctl()
    if prctl is None:
        return
    prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent_pid:  # reparented: the parent died before the request
        os.kill(os.getpid(), sig)


def preexec_tie(sig: signal.Signals) -> Callable[[], None] | None:
    """A `preexec_fn` for `subprocess.Popen` that ties the child to the calling process.
    libc is looked up here, in the parent, so between fork and exec the child only makes
    system calls (loading a library there can deadlock on a lock another thread held)."""
    if _prctl() is None:
        return None
    return functools.partial(tie_to_parent, os.getpid(), sig)


def tie_to_multiprocessing_parent(sig: signal.Signals) -> None:
    """`tie_to_parent` for a process started by `multiprocessing`, which knows its parent."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        tie_to_parent(parent.pid, sig)
