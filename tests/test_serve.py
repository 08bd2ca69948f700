"""`vocalis serve` on its embedded defaults, as a newcomer runs it: one command gives SQLite,
local storage and a supervised local worker; sign up, clone, generate, listen; and stopping serve
stops its worker."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serve_process import FINISHED, Serve, Studio, alive, serving, wait_for


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Serve]:
    # The defaults but one: a new voice's Kokoro style fit gets 2 renders instead of 20 (a
    # minute of CPU that tests/worker/test_kokoro_job.py and bench.quality cover).
    with serving(
        tmp_path / "data", {"VOCALIS_WORKER_ENGINE_OPTIONS": '{"style_renders": 2}'}
    ) as serve:
        yield serve


@pytest.mark.slow  # a real serve: API, worker and the local engine start (~20 s idle)
def test_serve_embedded_end_to_end(served: Serve, tmp_path: Path) -> None:
    assert httpx.get(f"{served.base}/api/languages").json()["provider"] == "local"
    assert httpx.get(f"{served.base}/").status_code == 200
    studio = Studio.sign_up(served.base, tmp_path, email="new@example.com")
    task = studio.poll_until(studio.generate("It works."), FINISHED, 90)
    assert task["status"] == "completed", task
    audio = studio.audio(task)
    assert audio[:4] == b"RIFF" and len(audio) > 10_000
    studio.close()

    worker = served.worker_pid()
    assert worker, "serve started no worker process"
    served.process.send_signal(signal.SIGTERM)  # what a service manager sends
    served.process.wait(timeout=30)
    # the worker shuts down gracefully: slots stop first
    assert wait_for(lambda: not alive(worker), 20), "the worker outlived serve"
