"""`vocalis worker` itself: a real uvicorn on a loopback port, started the way `vocalis serve`
starts its embedded worker, and the refusal to serve an open worker on a network."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.worker.harness import AUTH, DESIGN, TOKEN, read_wav, submit, wait_for
from vocalis.worker.config import WorkerSettings
from vocalis.worker.server import is_loopback, run


@pytest.mark.slow  # the real `local` engine behind the real command: ~10 s
async def test_the_worker_command_serves_over_tcp_and_shuts_down_cleanly(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = tmp_path / "results"
    env = {
        **os.environ,
        "VOCALIS_WORKER_TOKEN": TOKEN,
        "VOCALIS_WORKER_RESULTS_DIR": str(results),
        "VOCALIS_WORKER_CONCURRENCY": "1",
    }
    command = [sys.executable, "-m", "vocalis.cli", "worker", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port), "--engine", "local"], env=env)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = await client.get("/v1/health")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, "the worker exited"
                    assert time.monotonic() < deadline, "the worker never answered"
                    await asyncio.sleep(0.2)
            assert health.status_code == 200 and health.json()["engine"] == "local"
            job_id = await submit(client, DESIGN)
            assert (await wait_for(client, job_id, {"completed", "failed"})).result_ready
            result = await client.get(f"/v1/jobs/{job_id}/result")
            assert read_wav(result.content)[1] == health.json()["sample_rate"]
            assert (results / "jobs" / job_id / "result.wav").is_file()
    finally:
        process.terminate()
        code = process.wait(timeout=30)
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    assert not (results / "jobs").exists()  # the lifespan's shutdown ran and cleaned up


def test_an_open_worker_is_refused_off_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    with pytest.raises(SystemExit, match="VOCALIS_WORKER_TOKEN"):
        run(WorkerSettings(host="0.0.0.0", token=None))
