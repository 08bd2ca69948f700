"""Storage stays bounded: pending upload reservations, their expiry, unsaved previews, old task
rows, and the per-user quota."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.api.test_tasks import generate, poll, stored_generations
from tests.audio_files import make_wav
from tests.conftest import SignedIn
from vocalis.api.config import Settings
from vocalis.api.models import utcnow
from vocalis.api.scripted_worker import ScriptedWorker
from vocalis.api.sweeper import sweep_once

META = {"name": "Direct", "language": "English", "transcript": "Hello there."}


def files_under(settings: Settings, prefix: str) -> list[Path]:
    return sorted(p for p in (settings.data_dir / "storage" / prefix).rglob("*") if p.is_file())


async def test_outstanding_upload_urls_are_bounded_and_expire_with_their_uploads(
    app: FastAPI, client: httpx.AsyncClient, user: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    reserved = []
    for _ in range(settings.max_pending_uploads):
        response = await client.post("/api/clone/upload-url", headers=user.headers, json=META)
        assert response.status_code == 200, response.text
        reserved.append(response.json())
    refused = await client.post("/api/clone/upload-url", headers=user.headers, json=META)
    assert refused.status_code == 429 and "waiting to be finalized" in refused.json()["detail"]
    assert refused.headers["Retry-After"]

    for r in reserved:  # uploaded and abandoned
        assert (await client.put(r["upload_url"], content=b"x" * 1000)).status_code == 200
    assert len(files_under(settings, "uploads")) == settings.max_pending_uploads

    later = utcnow() + timedelta(seconds=settings.upload_ttl_seconds + 1)
    swept = await sweep_once(app.state.tasks, app.state.storage, later)
    assert swept["uploads"] == settings.max_pending_uploads
    assert files_under(settings, "uploads") == []
    again = await client.post("/api/clone/upload-url", headers=user.headers, json=META)
    assert again.status_code == 200  # the slots are free again

    gone = await client.post(
        "/api/clone/finalize",
        headers=user.headers,
        json={**META, "voice_id": reserved[0]["voice_id"]},
    )
    assert gone.status_code == 400 and "expired" in gone.json()["detail"]


async def test_finalize_refused_for_its_fields_keeps_the_upload_for_a_retry(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    reserved = (await client.post("/api/clone/upload-url", headers=user.headers, json=META)).json()
    wav = make_wav(tmp_path / "ref.wav", seconds=2.0)
    await client.put(reserved["upload_url"], content=wav.read_bytes())
    body = {**META, "voice_id": reserved["voice_id"]}
    nameless = await client.post(
        "/api/clone/finalize", headers=user.headers, json={**body, "name": ""}
    )
    assert nameless.status_code == 400 and len(files_under(settings, "uploads")) == 1
    fixed = await client.post("/api/clone/finalize", headers=user.headers, json=body)
    assert fixed.status_code == 200, fixed.text
    assert files_under(settings, "uploads") == []


async def test_unsaved_previews_and_old_task_rows_are_swept(
    app: FastAPI,
    client: httpx.AsyncClient,
    user: SignedIn,
    make_voice: Any,
    peer: ScriptedWorker,
    settings: Settings,
) -> None:
    started = await generate(client, user, await make_voice(user))
    preview = (
        await client.post(
            "/api/voices/design/preview",
            headers=user.headers,
            json={"text": "Hello.", "language": "English", "instruct": "a calm voice"},
        )
    ).json()
    await app.state.tasks.drain()
    peer.complete_all()
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"
    assert (await poll(client, user, preview["task_id"]))["status"] == "completed"
    assert len(files_under(settings, "previews")) == 1

    a_day_later = utcnow() + timedelta(seconds=settings.preview_ttl_seconds + 60)
    await sweep_once(app.state.tasks, app.state.storage, a_day_later)
    assert files_under(settings, "previews") == []
    assert (
        await client.get(f"/api/tasks/{preview['task_id']}", headers=user.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/tasks/{started['task_id']}", headers=user.headers)
    ).status_code == 200

    much_later = utcnow() + timedelta(days=settings.task_retention_days + 1)
    await sweep_once(app.state.tasks, app.state.storage, much_later)
    assert (
        await client.get(f"/api/tasks/{started['task_id']}", headers=user.headers)
    ).status_code == 404
    history = (await client.get("/api/generations", headers=user.headers)).json()["generations"]
    assert history[0]["status"] == "completed" and len(stored_generations(settings)) == 1


async def test_the_storage_quota_refuses_new_uploads_and_generations_with_413(
    app: FastAPI, client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    voice = await make_voice(user)  # ~96 kB of reference
    started = await generate(client, user, voice)
    peer.complete_all()
    await poll(client, user, started["task_id"])
    app.state.settings.user_quota_mb = 0  # now over it
    full = await client.post(
        "/api/generate", headers=user.headers, json={"voice_id": voice, "text": "More."}
    )
    assert full.status_code == 413 and "storage is full" in full.json()["detail"]
    upload = await client.post("/api/clone/upload-url", headers=user.headers, json=META)
    assert upload.status_code == 413
    # Deleting makes room.
    await client.delete(f"/api/generations/{started['generation_id']}", headers=user.headers)
    await client.delete(f"/api/voices/{voice}", headers=user.headers)
    app.state.settings.user_quota_mb = 1
    assert (
        await client.post("/api/clone/upload-url", headers=user.headers, json=META)
    ).status_code == 200


async def test_a_clone_that_would_pass_the_quota_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, user: SignedIn, settings: Settings, tmp_path: Path
) -> None:
    app.state.settings.user_quota_mb = 0  # nothing used yet, and no room for anything
    wav = make_wav(tmp_path / "ref.wav", seconds=2.0)
    response = await client.post(
        "/api/clone",
        headers=user.headers,
        data={"name": "N", "transcript": "Hello.", "language": "English"},
        files={"audio": ("ref.wav", wav.read_bytes(), "audio/wav")},
    )
    assert response.status_code == 413
    assert files_under(settings, "references") == []
