"""Object storage: key rules, LocalStorage on disk, S3Storage against a real (moto) S3 server.
The routes that serve local objects are tested in test_media.py."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from vocalis.api.config import Settings
from vocalis.api.storage import (
    InvalidKey,
    ObjectNotFound,
    ObjectTooLarge,
    Storage,
    content_type_for,
    create_storage,
    validate_key,
)
from vocalis.api.storage_local import LocalStorage
from vocalis.api.storage_s3 import S3Storage

SECRET = "storage-secret-" + "k" * 40
BLOB = bytes(range(256)) * 1024  # 256 KiB: several read chunks, every byte value


async def chunks_of(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.read_stream(key, start=start, end=end)])


# --- keys ---------------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "../secret",
    "a/../../secret",
    "a/./b",
    "/etc/passwd",
    "a//b",
    "a/",
    "a\\..\\b",
    "..",
    ".partial/x",
    "a/.hidden",
    "a b.wav",
    "a\nb",
    "%2e%2e/x",
    "é.wav",
    "x" * 513,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def test_ordinary_keys_pass() -> None:
    for key in ("references/u-1/v_2/reference.wav", "a", "generations/x/y.mp3", "A.B-c_d"):
        assert validate_key(key) == key


def test_content_types() -> None:
    assert content_type_for("g/x/audio.wav") == "audio/wav"
    assert content_type_for("a.MP3") == "audio/mpeg"
    assert content_type_for("a.webm") == "audio/webm"
    assert content_type_for("noext") == "application/octet-stream"
    assert content_type_for("dir.wav/noext") == "application/octet-stream"


# --- create_storage -------------------------------------------------------------------------


def test_create_storage_defaults_to_a_folder_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SecretStr(SECRET))
    storage = create_storage(settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "storage").resolve()


def test_create_storage_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = Settings(
        data_dir=tmp_path, storage_url="s3://my-bucket/some/prefix/", s3_region="eu-west-1"
    )
    storage = create_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("my-bucket", "some/prefix")
    assert storage.object_key("a.wav") == "some/prefix/a.wav"


@pytest.mark.parametrize("url", ["s3://", "ftp://host/x", "memory://"])
def test_create_storage_refuses_unknown_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        create_storage(Settings(data_dir=tmp_path, storage_url=url, jwt_secret=SecretStr(SECRET)))


# --- LocalStorage ---------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store", SECRET)


async def test_local_round_trip(local: LocalStorage, tmp_path: Path) -> None:
    key = "references/u/v/reference.wav"
    assert not await local.exists(key)
    assert await local.put_stream(key, chunks_of(BLOB), "audio/wav") == len(BLOB)
    assert (local.root / key).read_bytes() == BLOB
    assert await local.exists(key)
    assert await local.size(key) == len(BLOB)
    assert await read_all(local, key) == BLOB
    assert await read_all(local, key, start=100, end=70_000) == BLOB[100:70_001]
    assert await read_all(local, key, start=len(BLOB) - 5) == BLOB[-5:]

    await local.get_to_file(key, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == BLOB

    (tmp_path / "src.bin").write_bytes(b"replacement")
    await local.put_file(key, tmp_path / "src.bin")
    assert await read_all(local, key) == b"replacement"

    await local.delete(key)
    await local.delete(key)  # idempotent
    assert not await local.exists(key)
    assert not (local.root / "references").exists()  # emptied folders are pruned
    assert list((local.root / ".partial").iterdir()) == []


async def test_local_missing_objects(local: LocalStorage, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        await local.size("nope.wav")
    with pytest.raises(ObjectNotFound):
        await local.get_to_file("nope.wav", tmp_path / "out")
    with pytest.raises(ObjectNotFound):
        await read_all(local, "nope.wav")
    await local.put_stream("dir/a.wav", chunks_of(b"x"))
    with pytest.raises(ObjectNotFound):  # a folder is not an object
        await local.size("dir")
    assert not await local.exists("dir")


async def test_local_size_cap_stores_nothing(local: LocalStorage) -> None:
    await local.put_stream("a.wav", chunks_of(b"old"))
    with pytest.raises(ObjectTooLarge):
        await local.put_stream("a.wav", chunks_of(BLOB), max_bytes=len(BLOB) - 1)
    with pytest.raises(ObjectTooLarge):
        await local.put_stream("b.wav", chunks_of(BLOB), max_bytes=1000)
    assert await read_all(local, "a.wav") == b"old"  # the failed write left it untouched
    assert not await local.exists("b.wav")
    assert list((local.root / ".partial").iterdir()) == []
    assert await local.put_stream("c.wav", chunks_of(BLOB), max_bytes=len(BLOB)) == len(BLOB)


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_local_every_method_refuses_unsafe_keys(
    local: LocalStorage, tmp_path: Path, key: str
) -> None:
    (tmp_path / "secret").write_text("do not touch")
    calls = [
        local.put_stream(key, chunks_of(b"x")),
        local.put_file(key, tmp_path / "secret"),
        local.get_to_file(key, tmp_path / "out"),
        local.exists(key),
        local.size(key),
        local.delete(key),
        local.signed_url(key),
        read_all(local, key),
    ]
    for call in calls:
        with pytest.raises(InvalidKey):
            await call
    assert (tmp_path / "secret").read_text() == "do not touch"
    assert not (tmp_path / "out").exists()


async def test_local_signed_url_is_relative_and_verifiable(local: LocalStorage) -> None:
    url = await local.signed_url("a/b.wav", method="PUT", expires_in=30)
    path, _, query = url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    assert path == "/api/storage/a/b.wav"
    assert 0 < int(params["expires"]) - time.time() <= 30
    assert local.verify_signed("PUT", "a/b.wav", params["expires"], params["sig"])
    assert not local.verify_signed("GET", "a/b.wav", params["expires"], params["sig"])


# --- S3Storage against moto's S3 server -----------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Storage:
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    bucket = f"vocalis-{os.urandom(4).hex()}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return S3Storage(bucket, "media", endpoint_url=s3_endpoint, region="us-east-1")


async def test_s3_round_trip(s3: S3Storage, tmp_path: Path) -> None:
    key = "references/u/v/reference.wav"
    assert not await s3.exists(key)
    assert await s3.put_stream(key, chunks_of(BLOB)) == len(BLOB)
    assert await s3.exists(key)
    assert await s3.size(key) == len(BLOB)
    head = s3._client.head_object(Bucket=s3.bucket, Key="media/" + key)
    assert head["ContentType"] == "audio/wav"  # stored under the prefix, typed by extension
    assert await read_all(s3, key) == BLOB
    assert await read_all(s3, key, start=100, end=70_000) == BLOB[100:70_001]
    assert await read_all(s3, key, start=len(BLOB) - 5) == BLOB[-5:]

    await s3.get_to_file(key, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == BLOB
    (tmp_path / "src").write_bytes(b"replacement")
    await s3.put_file(key, tmp_path / "src", "audio/wav")
    assert await read_all(s3, key) == b"replacement"

    await s3.delete(key)
    await s3.delete(key)  # idempotent
    assert not await s3.exists(key)


async def test_s3_missing_and_too_large(s3: S3Storage, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        await s3.size("nope.wav")
    with pytest.raises(ObjectNotFound):
        await s3.get_to_file("nope.wav", tmp_path / "out")
    with pytest.raises(ObjectNotFound):
        await read_all(s3, "nope.wav")
    with pytest.raises(ObjectTooLarge):
        await s3.put_stream("big.wav", chunks_of(BLOB), max_bytes=1000)
    assert not await s3.exists("big.wav")
    with pytest.raises(InvalidKey):
        await s3.size("../x")


async def test_s3_presigned_get_and_put_work_with_a_plain_http_client(s3: S3Storage) -> None:
    put_url = await s3.signed_url("uploads/u/v/upload", method="PUT", expires_in=60)
    get_url = await s3.signed_url("uploads/u/v/upload", expires_in=60)
    assert put_url.startswith("http") and "X-Amz-Signature" in put_url
    async with httpx.AsyncClient() as http:
        assert (await http.put(put_url, content=BLOB)).status_code == 200
        fetched = await http.get(get_url)
        assert fetched.status_code == 200 and fetched.content == BLOB
        ranged = await http.get(get_url, headers={"Range": "bytes=10-19"})
        assert ranged.status_code == 206 and ranged.content == BLOB[10:20]
    assert await s3.size("uploads/u/v/upload") == len(BLOB)
