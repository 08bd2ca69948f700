"""Cloning (multipart and signed direct upload), listing, preview and delete of voices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.audio_files import make_encoded, make_wav
from tests.conftest import SignedIn
from vocalis.api.config import Settings


def files_under(settings: Settings, folder: str) -> list[Path]:
    return sorted(p for p in (settings.data_dir / "storage" / folder).rglob("*") if p.is_file())


async def clone(
    client: httpx.AsyncClient,
    user: SignedIn,
    path: Path,
    content_type: str = "audio/wav",
    **fields: str,
) -> httpx.Response:
    data = {"name": "Ada", "transcript": "Hello there.", "language": "English"} | fields
    with path.open("rb") as f:
        return await client.post(
            "/api/clone",
            headers=user.headers,
            data=data,
            files={"audio": (path.name, f, content_type)},
        )


async def voice_count(client: httpx.AsyncClient, user: SignedIn) -> int:
    return int(
        (await client.get("/api/voices", headers=user.headers)).json()["pagination"]["total"]
    )


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("wav", "audio/wav"), ("mp3", "audio/mpeg"), ("m4a", "audio/mp4"), ("webm", "audio/webm")],
)
async def test_clone_from_wav_mp3_and_browser_webm(
    client: httpx.AsyncClient,
    user: SignedIn,
    settings: Settings,
    tmp_path: Path,
    fmt: str,
    content_type: str,
) -> None:
    path = (
        make_wav(tmp_path / "ref.wav", seconds=2.0)
        if fmt == "wav"
        # streamed: no duration in the header, as a browser's MediaRecorder writes WebM
        else make_encoded(tmp_path / f"ref.{fmt}", fmt, seconds=2.0, streamed=fmt == "webm")
    )
    response = await clone(client, user, path, content_type, name="  Ada  ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Ada"
    [stored] = files_under(settings, "references")
    assert (
        stored.relative_to(settings.data_dir / "storage").as_posix()
        == f"references/{user.id}/{body['id']}/reference.wav"
    )
    [voice] = (await client.get("/api/voices", headers=user.headers)).json()["voices"]
    assert voice["id"] == body["id"] and voice["source"] == "uploaded"
    assert voice["reference_transcript"] == "Hello there." and voice["language"] == "English"
    assert voice["duration_seconds"] == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "100 characters"),
        ({"transcript": " "}, "transcript"),
        ({"language": "Klingon"}, "Unsupported language: Klingon"),
    ],
)
async def test_clone_field_errors_leave_nothing(
    client: httpx.AsyncClient,
    user: SignedIn,
    settings: Settings,
    tmp_path: Path,
    fields: dict[str, str],
    message: str,
) -> None:
    response = await clone(client, user, make_wav(tmp_path / "ref.wav"), **fields)
    assert response.status_code == 400 and message.lower() in response.json()["detail"].lower()
    assert await voice_count(client, user) == 0 and files_under(settings, "references") == []


@pytest.mark.parametrize("kind", ["garbage", "silent", "short", "empty"])
async def test_bad_audio_is_400_and_leaves_nothing(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "ref.wav"
    if kind == "garbage":
        path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 40)
    elif kind == "silent":
        make_wav(path, seconds=2.0, silent=True)
    elif kind == "short":
        make_wav(path, seconds=0.4)
    else:
        path.write_bytes(b"")
    response = await clone(client, user, path)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert await voice_count(client, user) == 0
    assert files_under(settings, "references") == []
    assert not any((settings.data_dir / "tmp").rglob("*.wav"))


async def test_missing_audio_and_non_multipart_are_400(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    form = {"name": "A", "transcript": "t", "language": "Auto"}
    response = await client.post("/api/clone", headers=user.headers, data=form)
    assert response.status_code == 400 and "audio" in response.json()["detail"]
    response = await client.post("/api/clone", headers=user.headers, json={"name": "A"})
    assert response.status_code == 400 and "multipart" in response.json()["detail"]


async def test_oversize_upload_is_413(
    app: Any, client: httpx.AsyncClient, user: SignedIn, tmp_path: Path
) -> None:
    app.state.settings.max_upload_bytes = 100_000
    path = make_wav(tmp_path / "big.wav", seconds=4.0, rate=24000)  # ~190 kB
    response = await clone(client, user, path)
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    assert await voice_count(client, user) == 0


async def test_direct_upload_then_finalize(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    meta = {"name": "Direct", "language": "English", "transcript": "Hello there."}
    reserved = (await client.post("/api/clone/upload-url", headers=user.headers, json=meta)).json()
    assert reserved["object_key"] == f"uploads/{user.id}/{reserved['voice_id']}/original"

    early = await client.post(
        "/api/clone/finalize", headers=user.headers, json={**meta, "voice_id": reserved["voice_id"]}
    )
    assert early.status_code == 400 and early.json()["detail"] == "Audio file not uploaded."

    put = await client.put(
        reserved["upload_url"], content=make_encoded(tmp_path / "r.mp3", "mp3").read_bytes()
    )
    assert put.status_code in (200, 201), put.text
    done = await client.post(
        "/api/clone/finalize", headers=user.headers, json={**meta, "voice_id": reserved["voice_id"]}
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"id": reserved["voice_id"], "name": "Direct", "check_task_id": None}
    assert files_under(settings, "uploads") == []  # the raw upload is not kept
    assert len(files_under(settings, "references")) == 1

    again = await client.post(
        "/api/clone/finalize", headers=user.headers, json={**meta, "voice_id": reserved["voice_id"]}
    )
    assert again.status_code == 400


async def test_finalize_with_undecodable_upload_leaves_nothing(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    meta = {"name": "Direct", "language": "English", "transcript": "Hello there."}
    reserved = (await client.post("/api/clone/upload-url", headers=user.headers, json=meta)).json()
    await client.put(reserved["upload_url"], content=b"not audio at all" * 100)
    response = await client.post(
        "/api/clone/finalize", headers=user.headers, json={**meta, "voice_id": reserved["voice_id"]}
    )
    assert response.status_code == 400 and "decode" in response.json()["detail"]
    assert files_under(settings, "uploads") == [] and files_under(settings, "references") == []
    assert await voice_count(client, user) == 0


async def test_list_search_filter_paginate(
    client: httpx.AsyncClient, user: SignedIn, other_user: SignedIn, tmp_path: Path
) -> None:
    ref = make_wav(tmp_path / "ref.wav")
    for name, transcript in [
        ("Alice", "Good morning"),
        ("Bob", "100% sure_thing"),
        ("Carol", "Evening news"),
    ]:
        assert (await clone(client, user, ref, name=name, transcript=transcript)).status_code == 200
    await clone(client, other_user, ref, name="Alice twin")

    async def names(query: str) -> list[str]:
        body = (await client.get(f"/api/voices{query}", headers=user.headers)).json()
        return [v["name"] for v in body["voices"]]

    assert await names("") == ["Carol", "Bob", "Alice"]
    assert await names("?search=morning") == ["Alice"]
    assert await names("?search=ALICE") == ["Alice"]
    assert await names("?search=100%25") == ["Bob"]
    assert await names("?search=%25") == ["Bob"]  # a literal %, not a wildcard
    assert await names("?search=_") == ["Bob"]
    assert await names("?source=designed") == []
    page = (await client.get("/api/voices?per_page=2&page=2", headers=user.headers)).json()
    assert [v["name"] for v in page["voices"]] == ["Alice"]
    assert page["pagination"] == {"page": 2, "per_page": 2, "total": 3, "pages": 2}


async def test_preview_redirects_to_signed_audio_and_delete_removes_it(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    voice_id = (await clone(client, user, make_wav(tmp_path / "ref.wav"))).json()["id"]
    preview = await client.get(f"/api/voices/{voice_id}/preview", headers=user.headers)
    assert preview.status_code == 302
    audio = await client.get(preview.headers["location"])
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    partial = await client.get(preview.headers["location"], headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.content) == 100

    assert (await client.delete(f"/api/voices/{voice_id}", headers=user.headers)).json() == {
        "ok": True
    }
    assert files_under(settings, "references") == []
    assert (
        await client.get(f"/api/voices/{voice_id}/preview", headers=user.headers)
    ).status_code == 404
    assert (await client.delete(f"/api/voices/{voice_id}", headers=user.headers)).status_code == 404


async def test_deleting_a_voice_keeps_its_generations(
    client: httpx.AsyncClient, user: SignedIn, tmp_path: Path, make_voice: Any, peer: Any
) -> None:
    voice_id = await make_voice(user)
    await client.post(
        "/api/generate", headers=user.headers, json={"voice_id": voice_id, "text": "Hi"}
    )
    await client.delete(f"/api/voices/{voice_id}", headers=user.headers)
    [generation] = (await client.get("/api/generations", headers=user.headers)).json()[
        "generations"
    ]
    assert generation["voice_id"] is None and generation["voice_name"] == "Narrator"


@pytest.mark.parametrize("language", [None, "", "  "])
async def test_every_clone_route_requires_a_language(
    client: httpx.AsyncClient,
    user: SignedIn,
    settings: Settings,
    tmp_path: Path,
    language: str | None,
) -> None:
    meta = {"name": "Ada", "transcript": "Hello there."}
    if language is not None:
        meta["language"] = language
    wav = make_wav(tmp_path / "ref.wav", seconds=2.0)
    with wav.open("rb") as f:
        form = await client.post(
            "/api/clone", headers=user.headers, data=meta, files={"audio": ("r.wav", f)}
        )
    reserve = await client.post("/api/clone/upload-url", headers=user.headers, json=meta)
    for refused in (form, reserve):
        assert refused.status_code == 400
        assert refused.json() == {"detail": "Language is required."}

    # Finalize: refused for its fields, the upload stays, and a corrected retry succeeds.
    reserved = (
        await client.post(
            "/api/clone/upload-url", headers=user.headers, json={**meta, "language": "Auto"}
        )
    ).json()
    await client.put(reserved["upload_url"], content=wav.read_bytes())
    body = {**meta, "voice_id": reserved["voice_id"]}
    refused = await client.post("/api/clone/finalize", headers=user.headers, json=body)
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Language is required."}
    assert len(files_under(settings, "uploads")) == 1 and await voice_count(client, user) == 0
    body["language"] = "French"
    done = await client.post("/api/clone/finalize", headers=user.headers, json=body)
    assert done.status_code == 200, done.text
    [voice] = (await client.get("/api/voices", headers=user.headers)).json()["voices"]
    assert voice["language"] == "French" and files_under(settings, "uploads") == []
