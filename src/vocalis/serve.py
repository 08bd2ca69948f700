"""`vocalis serve`: the API server, plus a supervised local worker when none is configured."""

from __future__ import annotations

from pydantic import SecretStr

from vocalis.api.config import Settings


def serve(settings: Settings) -> int:
    import uvicorn

    from vocalis.api.app import create_app
    from vocalis.embedded_worker import EmbeddedWorker

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    worker = None
    if not settings.worker_url:
        worker = EmbeddedWorker(settings.data_dir)
        print(f"Starting the local worker (offline `local` engine) on {worker.url}", flush=True)
        worker.start()
        settings = settings.model_copy(
            update={"worker_url": worker.url, "worker_token": SecretStr(worker.token)}
        )
    try:
        app = create_app(settings)
        print(
            f"Vocalis is running at http://{settings.host}:{settings.port}/ "
            f"(data in {settings.data_dir.resolve()})",
            flush=True,
        )
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    finally:
        if worker is not None:
            worker.stop()
    return 0
