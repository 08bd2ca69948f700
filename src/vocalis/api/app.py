"""The ASGI app factory. The lifespan builds the database, storage, worker client and tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vocalis.api import error_shapes, routes
from vocalis.api.authn import Authenticator
from vocalis.api.config import Settings
from vocalis.api.cors import Cors, parse_origins
from vocalis.api.db import create_database
from vocalis.api.middleware import BodyLimit, SecurityHeaders
from vocalis.api.migrate import require_current, upgrade
from vocalis.api.models import utcnow
from vocalis.api.openapi import install_openapi
from vocalis.api.storage import create_storage
from vocalis.api.sweeper import run_sweeper
from vocalis.api.tasks import Tasks
from vocalis.api.tasks.reconciler import run_reconciler
from vocalis.api.worker_client import Timeouts, WorkerClient
from vocalis.api.worker_transport import AiohttpTransport, Transport
from vocalis.error_handlers import install_error_handlers

# Where the worker is assumed to be when VOCALIS_WORKER_URL is unset and no transport is given
# (submissions then fail with a clear 502 rather than at startup).
UNCONFIGURED_WORKER = "http://127.0.0.1:8001"


def create_app(
    settings: Settings, *, worker_transport: Transport | None = None, reconcile: bool = True
) -> FastAPI:
    """Build the app. Tests pass `worker_transport` to reach a worker app in-process;
    `reconcile=False` runs no background loops (reconciler, sweeper)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = create_database(settings.resolved_database_url)
        try:  # the embedded database migrates itself; PostgreSQL must be `vocalis migrate`d
            await (upgrade(db) if db.is_sqlite else require_current(db))
        except BaseException:
            await db.dispose()
            raise
        token = settings.worker_token.get_secret_value() if settings.worker_token else None
        worker = WorkerClient(
            settings.worker_url or UNCONFIGURED_WORKER,
            token,
            worker_transport or AiohttpTransport(settings.worker_connect_timeout_seconds),
            Timeouts(
                connect=settings.worker_connect_timeout_seconds,
                call=settings.worker_timeout_seconds,
                submit=settings.worker_submit_timeout_seconds,
                download=settings.worker_download_timeout_seconds,
            ),
        )
        storage = create_storage(settings)
        tasks = Tasks(db, storage, worker, settings)
        app.state.settings = settings
        app.state.db = db
        app.state.jwt_secret = settings.jwt_secret_value()
        app.state.authenticator = Authenticator(app.state.jwt_secret, db, tasks.clock)
        app.state.storage = storage
        app.state.worker = worker
        app.state.tasks = tasks
        loops = []
        if reconcile and settings.reconcile_interval_seconds > 0:
            loops.append(run_reconciler(tasks, settings.reconcile_interval_seconds))
        if reconcile and settings.sweep_interval_seconds > 0:
            loops.append(run_sweeper(tasks, storage, settings.sweep_interval_seconds, utcnow))
        running = [asyncio.create_task(loop) for loop in loops]
        try:
            yield
        finally:
            for loop in running:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
            await tasks.drain()
            await worker.close()
            await db.dispose()

    app = FastAPI(
        title="Vocalis",
        summary="Voice-cloning studio and API",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(app, render=error_shapes.render)
    install_openapi(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_json_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Cors, origins=parse_origins(settings.cors_origins))  # outermost
    for router in routes.routers(web=settings.serve_web):
        app.include_router(router)
    return app
