"""Generate → poll → audio → history, with the real worker app and the real `local` engine."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from vocalis.api.worker_transport import HttpxTransport
from vocalis.worker.app import create_worker_app
from vocalis.worker.config import WorkerSettings


@pytest.fixture
async def worker_transport(tmp_path: Path) -> AsyncIterator[HttpxTransport]:
    settings = WorkerSettings(token="worker-token", concurrency=1, results_dir=tmp_path / "worker")
    app = create_worker_app(settings)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        yield HttpxTransport(client)


async def test_generate_with_the_real_worker(client, user, make_voice) -> None:
    voice_id = await make_voice(user, transcript="Hello there.")
    response = await client.post(
        "/api/generate",
        headers=user.headers,
        json={
            "voice_id": voice_id,
            "text": "Good morning. How are you today?",
            "language": "English",
        },
    )
    assert response.status_code == 200, response.text
    started = response.json()

    task: dict = {}
    progress_seen = []
    for _ in range(600):
        task = (await client.get(f"/api/tasks/{started['task_id']}", headers=user.headers)).json()
        progress_seen.append(task["progress"])
        if task["status"] not in ("pending", "processing"):
            break
        await asyncio.sleep(0.2)
    assert task["status"] == "completed", task
    assert task["modal_poll_count"] == len(progress_seen)

    redirect = await client.get(task["result"]["audio_url"], headers=user.headers)
    assert redirect.status_code == 302
    audio = await client.get(redirect.headers["location"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as w:
        seconds = w.getnframes() / w.getframerate()
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
    assert 1.0 < seconds < 10.0

    [generation] = (await client.get("/api/generations", headers=user.headers)).json()[
        "generations"
    ]
    assert generation["status"] == "completed"
    assert generation["duration_seconds"] == pytest.approx(seconds, abs=0.01)
    assert generation["audio_path"] == f"/api/generations/{started['generation_id']}/audio"
