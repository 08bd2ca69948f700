"""The signed-URL media routes: local objects served with Range support, signed direct
uploads with a size cap, and 404 when storage is S3."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from vocalis.api.app import create_app
from vocalis.api.config import Settings
from vocalis.api.security import sign_url
from vocalis.api.storage_local import LocalStorage
from vocalis.api.storage_s3 import S3Storage

BLOB = bytes(range(256)) * 1024  # 256 KiB: several read chunks, every byte value
LIMIT = 300_000


async def chunks_of(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_upload_bytes": LIMIT})


@pytest.fixture
async def stored(app: FastAPI) -> tuple[LocalStorage, str]:
    storage: LocalStorage = app.state.storage
    key = "generations/u/g/audio.wav"
    await storage.put_stream(key, chunks_of(BLOB))
    return storage, key


def split(url: str) -> tuple[str, dict[str, str]]:
    path, _, query = url.partition("?")
    return path, dict(p.split("=", 1) for p in query.split("&"))


async def test_signed_get_serves_the_object(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, str]
) -> None:
    storage, key = stored
    url = await storage.signed_url(key)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == BLOB
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["content-length"] == str(len(BLOB))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"

    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(BLOB))


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100000-", 100_000, len(BLOB) - 1),
        ("bytes=-500", len(BLOB) - 500, len(BLOB) - 1),
        ("bytes=5-9999999", 5, len(BLOB) - 1),
        ("bytes=-9999999", 0, len(BLOB) - 1),
        ("bytes=70000-70000", 70_000, 70_000),
    ],
)
async def test_range_requests(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, str], header: str, start: int, end: int
) -> None:
    storage, key = stored
    response = await client.get(await storage.signed_url(key), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == BLOB[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(BLOB)}"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("header", [f"bytes={len(BLOB)}-", "bytes=999999999-", "bytes=-0"])
async def test_unsatisfiable_range_is_416(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, str], header: str
) -> None:
    storage, key = stored
    response = await client.get(await storage.signed_url(key), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BLOB)}"
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "header", ["bytes=9-3", "items=0-5", "bytes=0-1,5-9", "bytes=-", "bytes=x-"]
)
async def test_unusable_range_headers_get_the_whole_object(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, str], header: str
) -> None:
    storage, key = stored
    response = await client.get(await storage.signed_url(key), headers={"Range": header})
    assert response.status_code == 200 and response.content == BLOB


def forged(sig: str) -> str:
    """`sig` with its last two characters changed (never equal to `sig`)."""
    return sig[:-2] + ("11" if sig.endswith("00") else "00")


async def test_bad_signatures_are_403(
    client: httpx.AsyncClient, stored: tuple[LocalStorage, str]
) -> None:
    storage, key = stored
    path, params = split(await storage.signed_url(key))
    put_path, put_params = split(await storage.signed_url(key, method="PUT"))
    expired_path, expired = split(await storage.signed_url(key, expires_in=-5))
    attempts = [
        (path, {}),  # unsigned
        (path, {**params, "sig": forged(params["sig"])}),
        (path, {**params, "expires": str(int(params["expires"]) + 1000)}),  # extended
        (path, {**params, "method": "PUT"}),
        (path.replace("audio.wav", "other.wav"), params),  # another key
        (put_path, put_params),  # a PUT grant used to read
        (expired_path, expired),
        (path, {**params, "expires": "tomorrow"}),
    ]
    for attempt_path, attempt_params in attempts:
        response = await client.get(attempt_path, params=attempt_params)
        assert response.status_code == 403, attempt_params
        assert response.json() == {"detail": "Invalid or expired signature."}
        assert (await client.head(attempt_path, params=attempt_params)).status_code == 403


async def test_missing_object_is_404(client: httpx.AsyncClient, app: FastAPI) -> None:
    storage: LocalStorage = app.state.storage
    response = await client.get(await storage.signed_url("generations/none.wav"))
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "raw_path",
    [
        "/api/storage/..%2f..%2fjwt_secret",
        "/api/storage/%2e%2e/jwt_secret",
        "/api/storage//etc/passwd",
    ],
)
async def test_traversal_through_the_route_is_refused(
    client: httpx.AsyncClient, app: FastAPI, raw_path: str
) -> None:
    # Sign the traversal key itself, as if the secret had leaked: the key rules still hold.
    key = raw_path.removeprefix("/api/storage/").replace("%2f", "/").replace("%2e", ".")
    signed = sign_url(app.state.jwt_secret, "GET", key, int(time.time()) + 60)
    query = signed.partition("?")[2]
    for target in (raw_path, f"{raw_path}?{query}"):
        response = await client.get(target)
        assert response.status_code in (403, 404), target
        assert app.state.jwt_secret.encode() not in response.content


async def test_signed_put_uploads_by_streaming(client: httpx.AsyncClient, app: FastAPI) -> None:
    storage: LocalStorage = app.state.storage
    key = "uploads/u/v/upload"
    url = await storage.signed_url(key, method="PUT")
    response = await client.put(url, content=chunks_of(BLOB))  # chunked, no Content-Length
    assert response.status_code == 200, response.text
    assert response.json() == {"key": key, "size": len(BLOB)}
    assert (storage.root / key).read_bytes() == BLOB

    # A GET grant cannot write.
    response = await client.put(await storage.signed_url(key), content=b"overwrite")
    assert response.status_code == 403
    assert (storage.root / key).read_bytes() == BLOB


async def test_put_over_the_limit_is_413_and_stores_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    storage: LocalStorage = app.state.storage
    too_big = b"\0" * (LIMIT + 1)
    url = await storage.signed_url("uploads/big", method="PUT")
    declared = await client.put(url, content=too_big)  # Content-Length says so up front
    streamed = await client.put(url, content=chunks_of(too_big, 50_000))  # only counting tells
    for response in (declared, streamed):
        assert response.status_code == 413
        assert "too large" in response.json()["detail"]
    assert not await storage.exists("uploads/big")
    exact = await client.put(url, content=b"\1" * LIMIT)
    assert exact.status_code == 200


async def test_media_routes_are_404_when_storage_is_s3(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    s3_settings = settings.model_copy(
        update={"storage_url": "s3://bucket/media", "s3_endpoint_url": "http://127.0.0.1:9"}
    )
    application = create_app(s3_settings)
    async with application.router.lifespan_context(application):
        assert isinstance(application.state.storage, S3Storage)
        url = sign_url(application.state.jwt_secret, "GET", "a.wav", int(time.time()) + 60)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get(url)).status_code == 404
            assert (await client.put(url.replace("GET", "PUT"), content=b"x")).status_code == 404
