"""Every protected route: 401 without a token (before any validation), 404 for another user's
ids, and never a 5xx for hostile ids or parameters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.conftest import SignedIn
from vocalis.api.routes import routers
from vocalis.api.scripted_worker import ScriptedWorker

# Routes that answer without a signed-in user; every other route of the app must refuse one.
PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/api/languages"),
    ("GET", "/api/me"),  # soft auth: signed_in false
    ("POST", "/auth/v1/signup"),
    ("POST", "/auth/v1/token"),
    ("GET", "/api/storage/{key:path}"),  # signed URLs carry their own authority
    ("HEAD", "/api/storage/{key:path}"),
    ("PUT", "/api/storage/{key:path}"),
}
# Path parameters, named as the routes name them, and which fixture id fills each.
ID_PARAMS = {"voice_id": "voice", "task_id": "task", "generation_id": "generation"}


def app_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the routers the app includes, so that a new route cannot escape
    the sweep. The web app's pages are static and public by design."""
    found = []
    for router in routers(web=False):
        for route in router.routes:
            assert isinstance(route, APIRoute), route
            path = route.path
            for name, fixture in ID_PARAMS.items():
                path = path.replace("{" + name + "}", "{" + fixture + "}")
            found += [(method, path) for method in sorted(route.methods)]
    return found


PROTECTED = [(m, p) for m, p in app_routes() if (m, p) not in PUBLIC]


def test_the_sweep_covers_the_routes_it_should() -> None:
    """Guards the guard: the derived list is not empty, and every public route still exists."""
    routes = set(app_routes())
    assert PUBLIC <= routes
    assert ("GET", "/api/tasks/{task}") in PROTECTED and ("POST", "/api/generate") in PROTECTED
    assert all(
        "{" not in p or any(f"{{{f}}}" in p for f in ID_PARAMS.values()) for _, p in PROTECTED
    )


BY_ID = [(m, p) for m, p in PROTECTED if "{" in p]
HOSTILE_IDS = [
    "not-a-uuid",
    "1",
    "' OR 1=1 --",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "x" * 5000,
    "\u202eevil",
    "00000000-0000-0000-0000-000000000000",
]


def fill(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


@pytest.fixture
async def owned(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> dict[str, str]:
    voice = await make_voice(user)
    started = (
        await client.post(
            "/api/generate",
            headers=user.headers,
            json={"voice_id": voice, "text": "Hi", "language": "Auto"},
        )
    ).json()
    return {"voice": voice, "task": started["task_id"], "generation": started["generation_id"]}


@pytest.mark.parametrize("auth", [None, "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
async def test_no_or_bad_token_is_401_before_validation(
    client: httpx.AsyncClient, auth: str | None
) -> None:
    ids = {"voice": "x", "task": "x", "generation": "x"}
    headers = {"Content-Type": "application/json"} | ({"Authorization": auth} if auth else {})
    wrong = []
    for method, path in PROTECTED:
        response = await client.request(
            method, fill(path, ids), headers=headers, content=b"{not json"
        )
        if response.status_code != 401 or not response.json().get("detail"):
            wrong.append((method, path, response.status_code))
    assert wrong == []


@pytest.mark.parametrize(("method", "path"), BY_ID)
async def test_another_users_ids_are_404(
    client: httpx.AsyncClient,
    owned: dict[str, str],
    other_user: SignedIn,
    user: SignedIn,
    method: str,
    path: str,
) -> None:
    response = await client.request(method, fill(path, owned), headers=other_user.headers)
    assert response.status_code == 404, response.text
    # and the owner still sees everything intact
    assert (
        await client.get(f"/api/tasks/{owned['task']}", headers=user.headers)
    ).status_code == 200
    voices = (await client.get("/api/voices", headers=user.headers)).json()["voices"]
    assert [v["id"] for v in voices] == [owned["voice"]]


async def test_generating_with_another_users_voice_is_404(
    client: httpx.AsyncClient, owned: dict[str, str], other_user: SignedIn
) -> None:
    response = await client.post(
        "/api/generate", headers=other_user.headers, json={"voice_id": owned["voice"], "text": "Hi"}
    )
    assert response.status_code == 404 and response.json()["detail"] == "Voice not found"


async def test_hostile_ids_are_404(client: httpx.AsyncClient, user: SignedIn) -> None:
    wrong = []
    for method, path in BY_ID:
        for bad in HOSTILE_IDS:
            ids = {"voice": bad, "task": bad, "generation": bad}
            response = await client.request(method, fill(path, ids), headers=user.headers)
            if response.status_code != 404:
                wrong.append((method, path, bad[:20], response.status_code))
    assert wrong == []


HOSTILE_QUERIES = [
    "/api/voices?page=0",
    "/api/voices?page=abc",
    "/api/voices?per_page=101",
    "/api/voices?per_page=-1",
    "/api/voices?page=99999999999999999999",
    "/api/voices?source=cloned",
    "/api/voices?search=%25%27%22%5C_",
    "/api/generations?status=done",
    "/api/generations?per_page=0",
    "/api/tasks?status=running",
    "/api/tasks?limit=51",
    "/api/tasks?type=other",
    "/api/tasks?before=%FF%FE",
    "/api/tasks?before=MjAyNi0xMS0yNH5h",
]


async def test_hostile_parameters_are_4xx_never_5xx(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    wrong = []
    for query in HOSTILE_QUERIES:
        response = await client.get(query, headers=user.headers)
        if response.status_code not in (200, 400) or (
            response.status_code == 400 and not response.json().get("detail")
        ):
            wrong.append((query, response.status_code))
    assert wrong == []


HOSTILE_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{bad json",
    b'{"voice_id": 5, "text": "hi"}',
    b'{"voice_id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "text": ["a"]}',
    b'{"voice_id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "text": "hi", "language": {"a": 1}}',
    b'{"voice_id": "\\ud800", "text": "hi"}',
]


async def test_hostile_generate_bodies_are_4xx(client: httpx.AsyncClient, user: SignedIn) -> None:
    headers = user.headers | {"Content-Type": "application/json"}
    wrong = []
    for body in HOSTILE_BODIES:
        response = await client.post("/api/generate", headers=headers, content=body)
        if not 400 <= response.status_code < 500 or not response.json().get("detail"):
            wrong.append((body, response.status_code))
    assert wrong == []


async def test_generate_validation_messages_in_order(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any
) -> None:
    async def detail(body: Any) -> tuple[int, str]:
        response = await client.post("/api/generate", headers=user.headers, json=body)
        return response.status_code, response.json()["detail"]

    voice = await make_voice(user)
    missing = "0b5e9c36-4e0a-4c1b-9a52-6a0b8f1e2d3c"
    assert await detail({"text": "x"}) == (400, "Please select a voice")
    assert await detail({"voice_id": "nope", "text": ""}) == (400, "Invalid voice_id")
    assert await detail({"voice_id": voice, "text": "   "}) == (400, "Please enter text to speak")
    assert await detail({"voice_id": voice, "text": "a" * 10001}) == (
        400,
        "Text cannot exceed 10000 characters",
    )
    assert await detail({"voice_id": voice, "text": "hi", "language": "Klingon"}) == (
        400,
        "Unsupported language: Klingon",
    )
    assert await detail({"voice_id": missing, "text": "hi"}) == (404, "Voice not found")
