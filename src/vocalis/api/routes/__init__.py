"""HTTP routes, one module per resource. `routers()` is the list the app includes, in order."""

from __future__ import annotations

from fastapi import APIRouter


def routers(*, web: bool = True) -> list[APIRouter]:
    from vocalis.api.routes import (
        api_keys,
        auth,
        clone,
        design,
        generate,
        generations,
        media,
        meta,
        openai_compat,
        profile,
        tasks,
        transcriptions,
        voices,
    )

    found = [
        meta.router,
        auth.router,
        profile.router,
        media.router,
        clone.router,
        design.router,
        voices.router,
        generate.router,
        tasks.router,
        generations.router,
        api_keys.router,
        openai_compat.router,
        transcriptions.router,
    ]
    if web:
        from vocalis.api.routes import web as web_routes

        found.append(web_routes.router)
    return found
