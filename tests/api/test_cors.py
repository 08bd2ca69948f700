"""CORS: preflights and answers for the origins in VOCALIS_CORS_ORIGINS, nothing for others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError

from tests.conftest import SignedIn
from vocalis.api.app import create_app
from vocalis.api.config import Settings
from vocalis.api.cors import ALLOW_METHODS, parse_origins

APP_ORIGIN = "https://studio.example.com"
DEV_ORIGIN = "http://localhost:5173"
OTHER_ORIGIN = "https://evil.example.net"
# What supabase-js sends before its first sign-up call (the request Utter's app failed on).
SUPABASE_HEADERS = "apikey,authorization,content-type,x-client-info,x-supabase-api-version"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Written as an operator would: spaces, a trailing slash, upper case, a default port.
    return settings.model_copy(
        update={"cors_origins": f" HTTPS://Studio.Example.com:443/ , {DEV_ORIGIN}"}
    )


def preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": SUPABASE_HEADERS,
    }


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def route_methods(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) for every route the app answers, from its own route table."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            path = route.path.replace("{", "x").replace("}", "").replace(":path", "")
            found.update((method, path) for method in route.methods or ())
    return found


async def test_a_listed_origins_preflight_is_204_with_what_supabase_js_needs(
    client: httpx.AsyncClient,
) -> None:
    for origin in (APP_ORIGIN, DEV_ORIGIN):
        response = await client.options("/auth/v1/signup", headers=preflight_headers(origin))
        assert response.status_code == 204 and response.content == b""
        headers = cors_headers(response)
        assert headers["access-control-allow-origin"] == origin
        allowed = {h.strip() for h in headers["access-control-allow-headers"].split(",")}
        assert set(SUPABASE_HEADERS.split(",")) <= allowed
        assert "POST" in headers["access-control-allow-methods"]
        assert int(headers["access-control-max-age"]) > 0
        assert "access-control-allow-credentials" not in headers  # bearer tokens only
        assert "Origin" in response.headers["vary"]


async def test_every_method_of_every_route_is_allowed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Derived from the route table, so a route with a new method cannot be left out."""
    pairs = route_methods(app)
    assert {method for method, _ in pairs} - {"OPTIONS"} <= set(ALLOW_METHODS)
    for method, path in sorted(pairs):
        response = await client.options(path, headers=preflight_headers(APP_ORIGIN, method))
        assert response.status_code == 204, (method, path)
        assert method in response.headers["access-control-allow-methods"]


async def test_answers_to_a_listed_origin_carry_the_allow_origin_header(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    origin = {"Origin": APP_ORIGIN}
    health = await client.get("/api/health", headers=origin)
    voices = await client.get("/api/voices", headers=origin | user.headers)
    # Errors too: a cross-origin page can read why it was refused.
    refused = await client.get("/api/voices", headers=origin)
    signup = await client.post(
        "/auth/v1/signup", json={"email": user.email, "password": "a long password"}, headers=origin
    )
    assert [r.status_code for r in (health, voices, refused, signup)] == [200, 200, 401, 422]
    for response in (health, voices, refused, signup):
        assert response.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "retry-after" in response.headers["access-control-expose-headers"]
        assert "Origin" in response.headers["vary"]
    assert signup.json()["error_code"] == "user_already_exists"


async def test_other_origins_get_no_cors_headers_and_a_clear_preflight_refusal(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    preflight = await client.options("/auth/v1/signup", headers=preflight_headers(OTHER_ORIGIN))
    assert preflight.status_code == 403
    assert cors_headers(preflight) == {}
    assert preflight.json() == {
        "detail": f"The origin {OTHER_ORIGIN} is not allowed: add it to VOCALIS_CORS_ORIGINS."
    }
    answer = await client.get("/api/voices", headers={"Origin": OTHER_ORIGIN} | user.headers)
    assert answer.status_code == 200 and cors_headers(answer) == {}
    # The page's origin is compared exactly, as browsers send it.
    for near in ("https://studio.example.com:8443", "http://studio.example.com", "null"):
        response = await client.get("/api/health", headers={"Origin": near})
        assert cors_headers(response) == {}, near


@asynccontextmanager
async def app_with(settings: Settings, cors_origins: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"cors_origins": cors_origins}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_by_default_only_the_same_origin_may_call(settings: Settings) -> None:
    async with app_with(settings, "") as client:
        preflight = await client.options("/auth/v1/signup", headers=preflight_headers(APP_ORIGIN))
        assert preflight.status_code == 403 and cors_headers(preflight) == {}
        assert "VOCALIS_CORS_ORIGINS" in preflight.json()["detail"]
        answer = await client.get("/api/health", headers={"Origin": APP_ORIGIN})
        assert answer.status_code == 200 and cors_headers(answer) == {}
        assert "vary" not in answer.headers  # nothing depends on Origin
        # Requests that are not preflights (no Origin, or no requested method) reach the routes.
        assert (await client.options("/api/health")).status_code == 405


async def test_a_star_allows_any_origin(settings: Settings) -> None:
    async with app_with(settings, "*") as client:
        for origin in (APP_ORIGIN, OTHER_ORIGIN):
            preflight = await client.options("/api/generate", headers=preflight_headers(origin))
            assert preflight.status_code == 204
            assert preflight.headers["access-control-allow-origin"] == origin
            answer = await client.get("/api/health", headers={"Origin": origin})
            assert answer.headers["access-control-allow-origin"] == origin


def test_origins_are_read_as_browsers_write_them() -> None:
    assert parse_origins(" HTTPS://A.example:443/, http://b.example:80 ,http://[::1]:8080,") == {
        "https://a.example",
        "http://b.example",
        "http://[::1]:8080",
    }
    assert parse_origins("") == frozenset()


@pytest.mark.parametrize(
    "bad",
    [
        "https://a.example/app",
        "a.example",
        "ftp://a.example",
        "https://a.example?x=1",
        "https://user@a.example",
        "https://a.example:99999",
    ],
)
def test_a_malformed_origin_is_refused_at_startup(bad: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_origins=f"https://fine.example, {bad}")
