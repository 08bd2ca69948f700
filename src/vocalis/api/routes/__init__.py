"""HTTP routes, one module per resource. `routers()` is the list the app includes, in order."""

from __future__ import annotations

from fastapi import APIRouter


def routers(*, web: bool = True) -> list[APIRouter]:
    from vocalis.api.routes import auth, clone, media, meta, profile, voices

    found = [meta.router, auth.router, profile.router, media.router, clone.router, voices.router]
    return found
