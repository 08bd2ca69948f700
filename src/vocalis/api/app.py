"""The ASGI app factory. The lifespan builds the database, storage and worker client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vocalis.api import routes
from vocalis.api.config import Settings
from vocalis.api.db import create_database
from vocalis.api.errors import install_error_handlers
from vocalis.api.migrate import upgrade
from vocalis.api.storage import create_storage


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = create_database(settings.resolved_database_url)
        if db.is_sqlite:  # the embedded database migrates itself; PostgreSQL uses `vocalis migrate`
            await upgrade(db)
        app.state.settings = settings
        app.state.db = db
        app.state.jwt_secret = settings.jwt_secret_value()
        app.state.storage = create_storage(settings)
        try:
            yield
        finally:
            await db.dispose()

    app = FastAPI(
        title="Vocalis",
        summary="Voice-cloning studio and API",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(app)
    for router in routes.routers(web=settings.serve_web):
        app.include_router(router)
    return app
