"""`vocalis serve` on its embedded defaults, as a newcomer runs it: one command gives SQLite,
local storage and a supervised local worker; sign up, clone, generate, listen; and stopping serve
stops its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.audio_files import make_wav
from vocalis.embedded_worker import free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCALIS_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vocalis.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("vocalis serve did not come up")
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def worker_pids(parent: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=,ppid=,args=", "-e"], capture_output=True, text=True
    ).stdout
    return [
        int(line.split()[0])
        for line in out.splitlines()
        if f" {parent} " in f" {line.split(None, 2)[1]} " and "worker" in line
    ]


def test_serve_embedded_end_to_end(
    served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    base, process = served
    with httpx.Client(base_url=base, timeout=30) as http:
        session = http.post(
            "/auth/v1/signup", json={"email": "new@example.com", "password": "a long password"}
        ).json()
        auth = {"Authorization": f"Bearer {session['access_token']}"}
        assert http.get("/api/languages").json()["provider"] == "local"
        assert http.get("/").status_code == 200

        ref = make_wav(tmp_path / "ref.wav", seconds=2.0)
        with ref.open("rb") as f:
            voice = http.post(
                "/api/clone",
                headers=auth,
                files={"audio": ("ref.wav", f, "audio/wav")},
                data={"name": "Me", "transcript": "Hello there.", "language": "English"},
            ).json()
        started = http.post(
            "/api/generate", headers=auth, json={"voice_id": voice["id"], "text": "It works."}
        ).json()
        task: dict = {}
        for _ in range(300):
            task = http.get(f"/api/tasks/{started['task_id']}", headers=auth).json()
            if task["status"] not in ("pending", "processing"):
                break
            time.sleep(0.3)
        assert task["status"] == "completed", task
        audio = http.get(task["result"]["audio_url"], headers=auth, follow_redirects=True)
        assert (
            audio.status_code == 200
            and audio.content[:4] == b"RIFF"
            and len(audio.content) > 10_000
        )

    workers = worker_pids(process.pid)
    assert workers, "serve started no worker process"
    process.send_signal(signal.SIGTERM)  # what a service manager sends
    process.wait(timeout=30)
    deadline = time.monotonic() + 20  # the worker shuts down gracefully: slots stop first
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], (
        "the worker outlived serve"
    )
