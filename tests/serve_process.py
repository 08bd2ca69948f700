"""A real `vocalis serve` for tests and benchmarks, started as a newcomer runs it.

Its output is collected line by line; its processes are found by their command lines under
serve's own process: the API process (granian's worker, a multiprocessing `spawn_main`), the
local worker (`vocalis.cli worker`) and that worker's synthesis processes (`spawn_main` again).
`Studio` drives the product over HTTP the way the web app does.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from bench.stack import descendants, free_port

from tests.audio_files import make_wav

READY = "Vocalis is running at"
FINISHED = ("completed", "failed", "cancelled")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever adopted it to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def wait_for(condition: Callable[[], Any], seconds: float, interval: float = 0.2) -> Any:
    """Poll `condition` until it returns something truthy (returned) or `seconds` pass (the
    last falsy value is returned): callers assert the outcome, never the time it took."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def children(pid: int, marker: str) -> list[int]:
    return [
        child
        for child in descendants(pid)
        if marker in command_line(child) and _parent(child) == pid and alive(child)
    ]


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rfind(")") + 2 :].split()[1])


@dataclass
class Serve:
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    # Whether /api/health answered 200 right when serve printed its ready line.
    answered_when_ready: bool | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return "\n".join(self.lines)

    def api_pid(self) -> int | None:
        found = children(self.pid, "spawn_main")
        return found[0] if found else None

    def worker_pid(self) -> int | None:
        found = children(self.pid, "vocalis.cli worker")
        return found[0] if found else None

    def slot_pids(self) -> list[int]:
        worker = self.worker_pid()
        return children(worker, "spawn_main") if worker else []

    def worker_url(self) -> str:
        """The local worker's address, from serve's "Starting the local worker … on URL"."""
        started = [line for line in self.lines if line.startswith("Starting the local worker")]
        return started[0].rpartition(" on ")[2]

    def tree(self) -> list[int]:
        return [self.pid, *descendants(self.pid)]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                self.answered_when_ready = status_of(f"{self.base}/api/health", 10) == 200
                self.ready.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_serve(
    data_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None
) -> Serve:
    """Start `vocalis serve` (on a free port unless given) with only the given VOCALIS_*
    settings; returns once it printed its ready line (or exited: check `process.poll()`)."""
    port = port or free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOCALIS_")}
    command = [sys.executable, "-m", "vocalis.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        env=base | dict(env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Serve(process, port)
    threading.Thread(target=served._read, daemon=True).start()
    wait_for(lambda: served.ready.is_set() or process.poll() is not None, 120)
    return served


@contextmanager
def serving(
    data_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[Serve]:
    """`start_serve`, checked to be up, and stopped at the end of the block."""
    serve = start_serve(data_dir, env, port)
    try:
        assert serve.ready.is_set(), f"vocalis serve did not come up:\n{serve.output()}"
        yield serve
    finally:
        serve.stop()


def status_of(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status a GET of a plain-HTTP `url` gets, or None when nothing answers. One
    connection and nothing else: cheap enough to probe every few milliseconds (an httpx
    client builds a TLS context each time), so probing does not slow what it measures."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def answers(url: str) -> bool:
    """The server at `url` answers HTTP (any status: a 401 is an answer too)."""
    return status_of(url) is not None


@dataclass
class Studio:
    """A signed-up user of one serve, with a cloned voice."""

    http: httpx.Client
    headers: dict[str, str]
    voice_id: str

    @classmethod
    def sign_up(cls, base: str, workdir: Path, email: str = "user@example.com") -> Studio:
        http = httpx.Client(base_url=base, timeout=30)
        body = {"email": email, "password": "a long password"}
        session = http.post("/auth/v1/signup", json=body).json()
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        ref = make_wav(workdir / "ref.wav", seconds=2.0)
        with ref.open("rb") as f:
            voice = http.post(
                "/api/clone",
                headers=headers,
                files={"audio": ("ref.wav", f, "audio/wav")},
                data={"name": "Me", "transcript": "Hello there.", "language": "English"},
            ).json()
        return cls(http, headers, voice["id"])

    def generate(self, text: str) -> str:
        body = {"voice_id": self.voice_id, "text": text, "language": "English"}
        response = self.http.post("/api/generate", headers=self.headers, json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["task_id"])

    def task(self, task_id: str) -> dict[str, Any]:
        """One poll; `{"status": "unreachable"}` while the API does not answer."""
        try:
            response = self.http.get(f"/api/tasks/{task_id}", headers=self.headers)
        except httpx.HTTPError:
            return {"status": "unreachable"}
        if response.status_code != 200:
            return {"status": f"http {response.status_code}"}
        return dict(response.json())

    def poll_until(
        self, task_id: str, statuses: tuple[str, ...], seconds: float, interval: float = 1.0
    ) -> dict[str, Any]:
        """Poll every `interval` s (once a second, as the web app does) until the task is in
        one of `statuses` or `seconds` passed; the last answer."""
        last: dict[str, Any] = {}

        def reached() -> bool:
            last.clear()
            last.update(self.task(task_id))
            return last["status"] in statuses

        wait_for(reached, seconds, interval)
        return last

    def audio(self, task: dict[str, Any]) -> bytes:
        url = task["result"]["audio_url"]
        return self.http.get(url, headers=self.headers, follow_redirects=True).content

    def close(self) -> None:
        self.http.close()
