"""The local worker `vocalis serve` starts when no VOCALIS_WORKER_URL is configured.

A child process on a free loopback port with a generated token, restarted if it dies and
stopped when serve exits, so one command gives a working product.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from vocalis.lifeline import preexec_tie

log = logging.getLogger("vocalis")

# A worker that ran this long before it died restarts after the shortest backoff again.
STABLE_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedWorker:
    def __init__(
        self, data_dir: Path, engine: str = "local", engine_options: dict[str, Any] | None = None
    ):
        self.engine = engine
        self.engine_options = engine_options or {}
        self.port = free_port()
        self.token = secrets.token_urlsafe(32)
        self.url = f"http://127.0.0.1:{self.port}"
        self._results = data_dir / "worker"
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._supervise, name="worker-watch", daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "VOCALIS_WORKER_TOKEN": self.token,
            "VOCALIS_WORKER_RESULTS_DIR": str(self._results),
        }
        if self.engine_options:
            env["VOCALIS_WORKER_ENGINE_OPTIONS"] = json.dumps(self.engine_options)
        command = [sys.executable, "-m", "vocalis.cli", "worker", "--host", "127.0.0.1"]
        # The worker stops when serve dies, however it dies: SIGTERM, so it stops gracefully
        # (its synthesis processes first). Spawned from the main thread or the watcher, which
        # both live as long as serve (see lifeline.py).
        return subprocess.Popen(
            [*command, "--port", str(self.port), "--engine", self.engine],
            env=env,
            preexec_fn=preexec_tie(signal.SIGTERM),  # noqa: PLW1509
        )

    def start(self, wait_seconds: float = 60.0) -> None:
        self._process = self._spawn()
        self._watcher.start()
        self.wait_healthy(wait_seconds)

    def wait_healthy(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        request = urllib.request.Request(
            f"{self.url}/v1/health", headers={"Authorization": f"Bearer {self.token}"}
        )
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        log.warning("the local worker did not answer within %.0f s", seconds)
        return False

    def _supervise(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > STABLE_SECONDS:
                backoff = 1.0  # a crash after a good run is not a crash loop
            log.warning("local worker exited with %s; restarting in %.0f s", code, backoff)
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, 30.0)
            self._process = self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
