"""The web app: static files under /assets, index.html for every client-side route."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from vocalis.api.errors import NotFound

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


@cache
def client_routes() -> frozenset[str]:
    """The web app's pages: each module in web/pages/ is served at /{its name}. The router's
    table (web/router.js) is held to the same folder by a unit test, so the two cannot drift."""
    return frozenset(path.stem for path in (WEB_ROOT / "pages").glob("*.js"))


class _Assets(StaticFiles):
    """Static files that browsers revalidate (ETag) on every load, so an upgrade never runs a
    mix of old and new modules from the cache."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


router = APIRouter(include_in_schema=False)
router.mount("/assets", _Assets(directory=WEB_ROOT, check_dir=False), name="assets")


def _index() -> FileResponse:
    index = WEB_ROOT / "index.html"
    if not index.is_file():
        raise NotFound("The web app is not installed.")
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


@router.get("/")
async def home() -> FileResponse:
    return _index()


@router.get("/{page}")
async def client_route(page: str) -> FileResponse:
    if page not in client_routes():
        raise NotFound()
    return _index()
