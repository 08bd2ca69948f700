"""`vocalis serve`: the API server, plus a supervised local worker when none is configured.

The server is granian: with the same app it held p99 ≤ 100 ms at 50 connections where uvicorn
sat at the limit (bench/poll.py, bench/README.md). granian builds the app in its own worker
process from `vocalis.asgi:create`, so the settings given here travel as VOCALIS_* variables.

This process supervises the others and outlives none of them:
- the API process is granian's worker: granian respawns it when it dies
  (`respawn_failed_workers`). The listening socket stays open in this process meanwhile, so
  clients queue in its backlog instead of being refused, and the local worker is untouched.
  Dying again within 5.5 s of a respawn is granian's crash loop: serve then exits;
- the local worker is EmbeddedWorker's child, restarted by it;
- both die with this process, however it dies (lifeline.py), so none keeps the port.
"""

from __future__ import annotations

import asyncio
import errno
import http.client
import multiprocessing
import os
import signal
import socket
import threading
import time
from typing import Any

from vocalis.api.config import Settings
from vocalis.lifeline import tie_to_multiprocessing_parent


class CannotServe(RuntimeError):
    """serve refuses to start; the message says why and what to do."""


def serve(settings: Settings) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    from vocalis.embedded_worker import EmbeddedWorker
    from vocalis.engine_choice import choose_engine

    ensure_port_free(settings.host, settings.port)
    if not settings.is_sqlite:  # the embedded database migrates itself when the app starts
        _require_current_schema(settings.resolved_database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {"VOCALIS_DATA_DIR": str(settings.data_dir.resolve())}
    worker = None
    if not settings.worker_url:
        engine = choose_engine(settings.engine, settings.data_dir)
        worker = EmbeddedWorker(settings.data_dir, engine.name, engine.options)
        print(f"Starting the local worker ({engine.describe}) on {worker.url}", flush=True)
        worker.start()
        env |= {"VOCALIS_WORKER_URL": worker.url, "VOCALIS_WORKER_TOKEN": worker.token}
    os.environ.update(env)
    # granian starts its worker with multiprocessing's default method, fork on Linux: a copy
    # of this process, threads' locks included (the announcer's may be held mid-request).
    # spawn starts a fresh interpreter that inherits only the environment and the socket.
    multiprocessing.set_start_method("spawn", force=True)
    announce = (
        f"Vocalis is running at http://{settings.host}:{settings.port}/ "
        f"(data in {settings.data_dir.resolve()})"
    )
    threading.Thread(
        target=_announce_when_answering,
        args=(settings.host, settings.port, announce),
        name="announce",
        daemon=True,
    ).start()
    try:
        Granian(
            "vocalis.asgi:create",
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=1,  # the embedded SQLite wants one writer process; scale out with replicas
            respawn_failed_workers=True,
            log_access=False,
        ).serve(target_loader=load_api)
    finally:
        if worker is not None:
            worker.stop()
    return 0


def load_api(target: str) -> Any:
    """Build the app in the API process (granian calls this there with its target, which is
    always `vocalis.asgi:create`). SIGKILL when serve dies: no graceful stop can be awaited
    by anyone then, and the port must be free for the next serve; the task state machine
    survives a killed process by design."""
    tie_to_multiprocessing_parent(signal.SIGKILL)
    from vocalis.asgi import create

    return create()


def ensure_port_free(host: str, port: int) -> None:
    """Refuse a port something else listens on. granian binds with SO_REUSEPORT, so it would
    share the port with a stale server (another serve's orphaned API process, say) and half
    the requests would go there; a bind without SO_REUSEPORT fails against any listener."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        # as servers do, so a recently closed connection (TIME_WAIT) does not count as in use
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = (
                "another process listens there: stop it or choose another port with --port"
                if exc.errno == errno.EADDRINUSE
                else "choose another address (--host) or port (--port)"
            )
            raise CannotServe(f"cannot listen on {host}:{port} ({exc.strerror}); {hint}") from None


def _require_current_schema(database_url: str) -> None:
    from vocalis.api.migrate import SchemaNotCurrent, require_current_url

    try:
        asyncio.run(require_current_url(database_url))
    except SchemaNotCurrent as exc:
        raise CannotServe(str(exc)) from None


def _probe_host(host: str) -> str:
    """Where to reach a server bound to `host` from this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _announce_when_answering(host: str, port: int, line: str) -> None:
    """Print `line` once the API answers its health check on the port: only then is the URL
    worth opening. Polls until it does; it is a daemon thread, so it ends with serve."""
    while True:
        connection = http.client.HTTPConnection(_probe_host(host), port, timeout=2)
        try:
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                print(line, flush=True)
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
