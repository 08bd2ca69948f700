"""Hostile input is a 4xx with a useful detail, never a 500, on both databases: deep nesting,
NUL characters and lone surrogates, oversized bodies; and the security headers are sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import SignedIn

JSON_ROUTES = [
    ("POST", "/auth/v1/signup", False),
    ("POST", "/auth/v1/token?grant_type=password", False),
    ("POST", "/auth/v1/token?grant_type=refresh_token", False),
    ("PATCH", "/api/profile", True),
    ("POST", "/api/generate", True),
    ("POST", "/api/voices/design/preview", True),
    ("POST", "/api/clone/upload-url", True),
    ("POST", "/api/clone/finalize", True),
]


async def _send(
    client: httpx.AsyncClient, user: SignedIn, route: tuple[str, str, bool], content: bytes
) -> httpx.Response:
    method, path, authed = route
    headers = {"Content-Type": "application/json"} | (user.headers if authed else {})
    return await client.request(method, path, headers=headers, content=content)


@pytest.mark.parametrize("route", JSON_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
async def test_deeply_nested_json_is_400(
    client: httpx.AsyncClient, user: SignedIn, route: tuple[str, str, bool]
) -> None:
    for body in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
        response = await _send(client, user, route, body)
        assert response.status_code == 400, (route, response.status_code, response.text[:200])
        assert response.json()["detail"]


UNSTORABLE = {"nul": "a\u0000b", "surrogate": "a\ud800b"}


@pytest.mark.parametrize("kind", list(UNSTORABLE))
async def test_nul_and_lone_surrogates_in_json_fields_are_400_naming_the_field(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, kind: str
) -> None:
    bad = UNSTORABLE[kind]
    voice = await make_voice(user)
    cases: list[tuple[tuple[str, str, bool], dict[str, Any], str]] = [
        (JSON_ROUTES[0], {"email": bad + "@example.com", "password": "x" * 12}, "email"),
        (JSON_ROUTES[1], {"email": "a@example.com", "password": bad * 5}, "password"),
        (JSON_ROUTES[3], {"display_name": bad}, "display_name"),
        (JSON_ROUTES[4], {"voice_id": voice, "text": bad}, "text"),
        (JSON_ROUTES[5], {"text": "Hi.", "instruct": bad, "language": "English"}, "instruct"),
        (JSON_ROUTES[6], {"name": bad, "language": "English", "transcript": "Hi."}, "name"),
    ]
    import json

    for route, body, field in cases:
        response = await _send(client, user, route, json.dumps(body).encode())
        assert response.status_code == 400, (route, response.text)
        assert field in response.json()["detail"], (route, response.json())


async def test_nul_in_forms_and_queries_is_400(client: httpx.AsyncClient, user: SignedIn) -> None:
    bad = UNSTORABLE["nul"]
    form = await client.post(
        "/api/clone",
        headers=user.headers,
        data={"name": "N", "transcript": bad, "language": "English"},
        files={"audio": ("a.wav", b"RIFF", "audio/wav")},
    )
    assert form.status_code == 400 and "transcript" in form.json()["detail"], form.text
    for path in ("/api/voices", "/api/generations"):
        response = await client.get(path, params={"search": bad}, headers=user.headers)
        assert response.status_code == 400 and "search" in response.json()["detail"], path


async def test_an_encoded_surrogate_in_a_form_or_query_is_never_a_500(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    """A raw client can send a surrogate's UTF-8-style bytes (ED A0 80); they decode to U+FFFD,
    which is storable, or are refused — either way no 500."""
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'.encode()
        + b"a\xed\xa0\x80b"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    form = await client.post(
        "/api/clone",
        headers=user.headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert 400 <= form.status_code < 500, form.text
    query = await client.get("/api/voices?search=a%ED%A0%80b", headers=user.headers)
    assert query.status_code in (200, 400), query.text


async def test_a_huge_body_is_413_before_it_is_read(client: httpx.AsyncClient) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b" " * (1024 * 1024)
        for _ in range(200):  # 200 MB, chunked: no Content-Length to refuse it by
            sent += len(chunk)
            yield chunk

    response = await client.post(
        "/auth/v1/signup", content=body(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    assert sent <= 3 * 1024 * 1024  # stopped reading just past the 1 MiB cap

    declared = await client.post(
        "/auth/v1/signup",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(200 * 1024 * 1024)},
    )
    assert declared.status_code == 413


async def test_the_web_app_and_media_refuse_framing(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any
) -> None:
    voice = await make_voice(user)
    for path in ("/", "/generate", "/api/health"):
        response = await client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
    redirect = await client.get(f"/api/voices/{voice}/preview", headers=user.headers)
    media = await client.get(redirect.headers["location"])
    assert media.status_code == 200 and media.headers["x-frame-options"] == "DENY"
