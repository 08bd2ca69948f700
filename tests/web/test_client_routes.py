"""The server answers the web app's pages with the app, and nothing else: the pages are the
modules in web/pages/ (router.js's table is held to the same folder by tests/web/js)."""

from __future__ import annotations

import httpx
import pytest

from vocalis.api.routes.web import WEB_ROOT

PAGES = sorted(path.stem for path in (WEB_ROOT / "pages").glob("*.js"))


def test_the_pages_folder_holds_the_pages() -> None:
    # Guards the tests below: an empty folder would parametrize them away.
    assert {"generate", "clone", "signin"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
async def test_each_page_is_the_app(client: httpx.AsyncClient, page: str) -> None:
    for path in (f"/{page}", f"/{page}?next=%2Fvoices"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/assets/app.js">' in response.text


@pytest.mark.parametrize("path", ["/dock", "/app", "/pages", "/index.html", "/nope"])
async def test_other_paths_are_not_found(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "detail" in response.json()


async def test_page_modules_are_served_as_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/assets/pages/generate.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
