"""`vocalis serve` survives its own processes dying and outlives none of them (issue 10).

Each test runs a real `vocalis serve` (real API process under granian, real local worker, real
synthesis processes) and kills one of its processes with SIGKILL, as a crash or the OOM killer
would. The worker runs the instant `tone` engine behind a gate (a file the test creates), so the
job is provably still running when the kill comes, on any machine, and finishes the moment the
test lets it; the real `local` engine's audio is tests/test_serve.py's. Outcomes are polled for
until a generous deadline, then asserted: how long recovery takes is bench/abuse.py's business,
not a test's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_ADMIN_URL
from tests.serve_process import (
    FINISHED,
    Serve,
    Studio,
    alive,
    answers,
    command_line,
    serving,
    start_serve,
    wait_for,
)
from vocalis.embedded_worker import free_port
from vocalis.serve import ensure_port_free

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="process supervision is tested on Linux"),
]

TEXT = "The first sentence renders. The second waits at the gate until the test opens it."
DEADLINE = 120.0  # seconds: generous for a loaded 2-core machine; only the outcome is asserted


def gated(gate: Path) -> dict[str, str]:
    """The embedded worker on the tone engine, in synthesis processes, every job holding after
    its first sentence until `gate` exists; without Whisper (no reference checks competing for
    the CPU: they are tests/api/test_transcriptions.py's)."""
    options = {"gate_after": 1, "gate_file": str(gate)}
    return {
        "VOCALIS_ENGINE": "tone",
        "VOCALIS_WORKER_TRANSCRIPTION": "false",
        "VOCALIS_WORKER_EXECUTION": "process",
        "VOCALIS_WORKER_ENGINE_OPTIONS": json.dumps(options),
    }


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    return tmp_path / "gate"


@pytest.fixture
def serve_env(database_url: str, gate: Path) -> dict[str, str]:
    return {"VOCALIS_DATABASE_URL": database_url, **gated(gate)}


@pytest.fixture
def served(tmp_path: Path, gate: Path) -> Iterator[Serve]:
    with serving(tmp_path / "data", gated(gate)) as serve:
        yield serve


def running_generation(serve: Serve, workdir: Path) -> tuple[Studio, str]:
    """A generation whose job is held at the gate: running, with its synthesis process busy."""
    studio = Studio.sign_up(serve.base, workdir)
    task_id = studio.generate(TEXT)
    held = wait_for(lambda: studio.task(task_id).get("segments_ready") == 1, DEADLINE)
    assert held, studio.task(task_id)
    return studio, task_id


def test_ready_line_comes_once_the_port_answers(served: Serve) -> None:
    assert served.answered_when_ready, served.output()


def test_killed_api_process_is_replaced_and_the_generation_completes(
    tmp_path: Path, serve_env: dict[str, str], gate: Path
) -> None:
    with serving(tmp_path / "data", serve_env) as serve:
        studio, task_id = running_generation(serve, tmp_path)
        api, worker = serve.api_pid(), serve.worker_pid()
        assert api and worker

        os.kill(api, signal.SIGKILL)

        replaced = wait_for(lambda: serve.api_pid() not in (None, api), DEADLINE)
        assert replaced, f"no new API process:\n{serve.output()}"
        gate.touch()  # the job the old API process submitted finishes now
        task = studio.poll_until(task_id, FINISHED, DEADLINE)
        assert task["status"] == "completed", task
        assert studio.audio(task)[:4] == b"RIFF"
        assert serve.process.poll() is None and serve.worker_pid() == worker  # untouched
        studio.close()


def test_killed_serve_takes_its_processes_and_the_port_with_it(tmp_path: Path, gate: Path) -> None:
    serve = start_serve(tmp_path / "data", gated(gate))
    assert serve.ready.is_set(), serve.output()
    running_generation(serve, tmp_path)  # so the API, the worker and a synthesis are all busy
    tree = serve.tree()
    assert serve.api_pid() in tree and serve.worker_pid() in tree and serve.slot_pids()

    serve.process.kill()
    serve.process.wait()

    try:
        assert wait_for(lambda: not [p for p in tree if alive(p)], DEADLINE), [
            command_line(p) for p in tree if alive(p)
        ]
    finally:
        for pid in tree:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    ensure_port_free("127.0.0.1", serve.port)
    with serving(tmp_path / "data", port=serve.port) as again:  # as an operator restarts it
        assert httpx.get(f"{again.base}/api/languages").json()["provider"] == "local"


def test_killed_worker_leaves_no_synthesis_process_and_comes_back(
    served: Serve, tmp_path: Path, gate: Path
) -> None:
    studio, _ = running_generation(served, tmp_path)
    worker, slots = served.worker_pid(), served.slot_pids()
    assert worker and slots
    # Stopped, a synthesis process can neither finish its job nor notice its pipe closing:
    # only the kernel's parent-death signal can end it.
    for slot in slots:
        os.kill(slot, signal.SIGSTOP)
    try:
        os.kill(worker, signal.SIGKILL)
        orphans = wait_for(lambda: not [s for s in slots if alive(s)], DEADLINE)
        assert orphans, f"synthesis processes outlived their worker: {slots}"
    finally:
        for slot in slots:
            if alive(slot):
                os.kill(slot, signal.SIGKILL)

    assert wait_for(lambda: served.worker_pid() not in (None, worker), DEADLINE)
    assert wait_for(lambda: answers(f"{served.worker_url()}/v1/health"), DEADLINE)
    # The restarted worker takes new work. (What becomes of the job the killed worker lost is
    # the task state machine's: resubmission after status errors.)
    gate.touch()
    task = studio.poll_until(studio.generate("Back again."), FINISHED, DEADLINE)
    assert task["status"] == "completed", task
    studio.close()


def test_serve_refuses_a_port_another_server_shares(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCALIS_")}
    with socket.socket() as other:  # how a stale granian holds it: SO_REUSEPORT
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", port))
        other.listen()
        result = subprocess.run(
            [sys.executable, "-m", "vocalis.cli", "serve", "--port", str(port)]
            + ["--data-dir", str(tmp_path / "data")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1 and "in use" in result.stderr, result


@pytest.mark.skipif(not PG_ADMIN_URL, reason="PostgreSQL: set VOCALIS_TEST_DATABASE_URL to run")
def test_serve_refuses_an_unmigrated_postgres(tmp_path: Path, empty_database_url: str) -> None:
    if empty_database_url.startswith("sqlite"):
        pytest.skip("the embedded SQLite database migrates itself")
    serve = start_serve(tmp_path / "data", {"VOCALIS_DATABASE_URL": empty_database_url})
    try:
        assert serve.process.wait(timeout=DEADLINE) == 1, serve.output()
        assert wait_for(lambda: "run `vocalis migrate`" in serve.output().lower(), 10)
        assert not serve.ready.is_set() and "local worker" not in serve.output()
    finally:
        serve.stop()
