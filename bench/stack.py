"""The real Vocalis processes for benchmarks: a worker and an API server on loopback ports.

Each process runs in its own session (process group), logs to a file in the run's directory
and is stopped with its whole group at the end, so a failed run leaves nothing behind. The
helpers here also read per-process CPU time and peak RSS from /proc (Linux).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from tests.audio_files import make_wav

Server = Literal["uvicorn", "granian"]
PASSWORD = "bench-password-1"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tree(self) -> list[int]:
        """This process and its descendants (server workers, synthesis slots)."""
        return [self.pid, *descendants(self.pid)]

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGINT the group (a graceful shutdown: lifespans close pools), then SIGKILL it."""
        if self.popen.poll() is None:
            _signal_group(self.pid, signal.SIGINT)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.pid, signal.SIGKILL)  # strays: slots, server workers
        self.popen.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def start(name: str, command: list[str], env: Mapping[str, str], run_dir: Path) -> Process:
    log = run_dir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so stop() reaches its children too
        )
    return Process(name, popen, log)


def wait_ready(
    process: Process, url: str, headers: Mapping[str, str] | None = None, timeout: float = 90.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            if httpx.get(url, headers=headers, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} not ready after {timeout:.0f} s:\n{process.tail()}")


@dataclass
class Worker:
    process: Process
    url: str
    token: str

    def slot_pids(self) -> list[int]:
        """The synthesis slot processes: spawned children running multiprocessing's spawn_main
        (the other child, multiprocessing's resource tracker, runs no jobs)."""
        return [pid for pid in descendants(self.process.pid) if "spawn_main" in _cmdline(pid)]


def start_worker(run_dir: Path, *, concurrency: int = 1, capacity: int = 256) -> Worker:
    port, token = free_port(), secrets.token_urlsafe(24)
    env = {
        "VOCALIS_WORKER_TOKEN": token,
        "VOCALIS_WORKER_CONCURRENCY": str(concurrency),
        "VOCALIS_WORKER_CAPACITY": str(capacity),
        "VOCALIS_WORKER_RESULTS_DIR": str(run_dir / "worker"),
        # No Whisper: a clone would start a reference check that takes a slot of the user's
        # active-task cap and CPU the benchmarks did not ask for.
        "VOCALIS_WORKER_TRANSCRIPTION": "false",
    }
    command = [sys.executable, "-m", "vocalis.cli", "worker", "--port", str(port)]
    process = start("worker", command, env, run_dir)
    url = f"http://127.0.0.1:{port}"
    wait_ready(process, f"{url}/v1/health", {"Authorization": f"Bearer {token}"})
    return Worker(process, url, token)


def api_env(run_dir: Path, database_url: str, worker: Worker, **extra: str) -> dict[str, str]:
    (run_dir / "data").mkdir(exist_ok=True)  # `migrate` opens the SQLite file in it
    return {
        "VOCALIS_DATA_DIR": str(run_dir / "data"),
        "VOCALIS_DATABASE_URL": database_url,
        "VOCALIS_WORKER_URL": worker.url,
        "VOCALIS_WORKER_TOKEN": worker.token,
        # shared by every server process (each would otherwise race to create the file)
        "VOCALIS_JWT_SECRET": secrets.token_urlsafe(48),
        **extra,
    }


def migrate(env: Mapping[str, str], run_dir: Path) -> None:
    """Bring the database to the latest schema before any server process starts (several
    worker processes must not each migrate the embedded SQLite file at once)."""
    command = [sys.executable, "-m", "vocalis.cli", "migrate"]
    process = start("migrate", command, env, run_dir)
    if process.popen.wait(120) != 0:
        raise RuntimeError(f"migrate failed:\n{process.tail()}")


def start_api(
    run_dir: Path,
    env: Mapping[str, str],
    *,
    server: Server = "uvicorn",
    workers: int = 1,
    port: int | None = None,
) -> tuple[Process, str]:
    port = port or free_port()
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "vocalis.asgi:create", "--factory", *where]
        command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        command += ["--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", *where]
        command += ["--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
        command += ["vocalis.asgi:create"]
    process = start("api", command, env, run_dir)
    url = f"http://127.0.0.1:{port}"
    wait_ready(process, f"{url}/api/health")
    return process, url


@contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()


# ---- a signed-up user with a voice -------------------------------------------------------


def sign_up(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/auth/v1/signup", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def minted_token(env: Mapping[str, str], email: str) -> dict[str, str]:
    """Headers with an access token signed with the API's secret for a new user id: the API
    provisions the user on first use. No password hashing in the API process (Argon2 takes
    64 MiB while it hashes, which would set the process's peak memory)."""
    from vocalis.api.security import create_access_token

    token, _ = create_access_token(
        secret=env["VOCALIS_JWT_SECRET"],
        user_id=str(uuid.uuid4()),
        email=email,
        session_id=str(uuid.uuid4()),
        lifetime_seconds=3600,
    )
    return {"Authorization": f"Bearer {token}"}


def clone_voice(client: httpx.Client, headers: Mapping[str, str], wav: Path) -> str:
    with wav.open("rb") as audio:
        response = client.post(
            "/api/clone",
            headers=headers,
            data={"name": "Bench", "transcript": "Hello there.", "language": "English"},
            files={"audio": ("reference.wav", audio, "audio/wav")},
        )
    if response.status_code != 200:
        raise RuntimeError(f"clone answered {response.status_code}: {response.text}")
    return str(response.json()["id"])


def generate(client: httpx.Client, headers: Mapping[str, str], voice_id: str) -> str:
    body = {"voice_id": voice_id, "text": "Polling benchmark.", "language": "English"}
    response = client.post("/api/generate", headers=headers, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"generate answered {response.status_code}: {response.text}")
    return str(response.json()["task_id"])


def reference_wav(path: Path, seconds: float = 2.0, rate: int = 24000, channels: int = 1) -> Path:
    return make_wav(path, seconds=seconds, rate=rate, channels=channels)


# ---- /proc -----------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:  # the process is gone
        return ""


def _cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace("\0", " ")


def _stat(pid: int) -> list[str]:
    text = _read(f"/proc/{pid}/stat")
    # The command name (field 2) may hold spaces; everything after its ')' splits cleanly.
    return text[text.rfind(")") + 2 :].split() if text else []


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        if fields := _stat(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS


def pids_matching(text: str) -> list[int]:
    """Processes whose command line contains `text` (e.g. the PostgreSQL backends serving one
    database: their titles read `postgres: user dbname 127.0.0.1(port) idle`)."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and text in _cmdline(int(e))]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def rss_mb(pid: int) -> float:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
