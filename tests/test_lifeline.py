"""A child tied to its parent dies with it: when the parent is killed later, and when the
parent was already dead by the time the child asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.serve_process import alive, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")


def run_parent(script: str) -> tuple[subprocess.Popen[str], int]:
    """Start a parent process running `script`, which prints its child's pid first."""
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    return parent, int(parent.stdout.readline())


def test_a_tied_child_dies_when_its_parent_is_killed() -> None:
    parent, child = run_parent(
        """
        import signal, subprocess, sys, time
        from vocalis.lifeline import preexec_tie
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)"],
            preexec_fn=preexec_tie(signal.SIGTERM),
        )
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    try:
        assert alive(child)
        parent.kill()  # SIGKILL: the parent runs no cleanup of its own
        parent.wait()
        assert wait_for(lambda: not alive(child), 30), "the child outlived its killed parent"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_child_whose_parent_died_before_it_asked_notices() -> None:
    # The child waits until it has been reparented (its parent is dead), then ties itself to
    # the parent it was started by: it must take the signal at once rather than live on.
    child_code = textwrap.dedent(
        """
        import os, signal, sys, time
        from vocalis.lifeline import tie_to_parent
        parent = int(sys.argv[1])
        while os.getppid() == parent:
            time.sleep(0.05)
        tie_to_parent(parent, signal.SIGTERM)
        time.sleep(120)
        """
    )
    parent, child = run_parent(
        f"""
        import os, subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", {child_code!r}, str(os.getpid())])
        print(child.pid, flush=True)
        """
    )
    parent.wait()
    try:
        assert wait_for(lambda: not alive(child), 30), "the orphaned child lived on"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
