"""`vocalis serve`: the API server, plus a supervised local worker when none is configured.

The server is granian: with the same app it held p99 ≤ 100 ms at 50 connections where uvicorn
sat at the limit (bench/poll.py, bench/README.md). granian builds the app in its own worker
process from `vocalis.asgi:create`, so the settings given here travel as VOCALIS_* variables.
"""

from __future__ import annotations

import os

from vocalis.api.config import Settings


def serve(settings: Settings) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    from vocalis.embedded_worker import EmbeddedWorker

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {"VOCALIS_DATA_DIR": str(settings.data_dir.resolve())}
    worker = None
    if not settings.worker_url:
        worker = EmbeddedWorker(settings.data_dir)
        print(f"Starting the local worker (offline `local` engine) on {worker.url}", flush=True)
        worker.start()
        env |= {"VOCALIS_WORKER_URL": worker.url, "VOCALIS_WORKER_TOKEN": worker.token}
    os.environ.update(env)
    try:
        print(
            f"Vocalis is running at http://{settings.host}:{settings.port}/ "
            f"(data in {settings.data_dir.resolve()})",
            flush=True,
        )
        Granian(
            "vocalis.asgi:create",
            factory=True,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=1,  # the embedded SQLite wants one writer process; scale out with replicas
            log_access=False,
        ).serve()
    finally:
        if worker is not None:
            worker.stop()
    return 0
