"""Transcription through the API and the real worker (Whisper from the wheels, offline): the
clone form's transcript, the reference checks, and a new voice's warnings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SignedIn
from tests.offline import assert_guard_active, no_network
from tests.worker.speech import ENGLISH, speech_wav, words_of
from vocalis.api.worker_transport import HttpxTransport
from vocalis.worker.app import create_worker_app
from vocalis.worker.config import WorkerSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")  # Whisper assembled once for the module


@pytest.fixture
async def worker_transport(tmp_path: Path, models: Path) -> AsyncIterator[HttpxTransport]:
    settings = WorkerSettings(
        token="worker-token",
        engine="tone",
        execution="thread",
        results_dir=tmp_path / "worker",
        models_dir=models,
    )
    app = create_worker_app(settings)
    async with app.router.lifespan_context(app):
        yield HttpxTransport(httpx.AsyncClient(transport=httpx.ASGITransport(app=app)))


@pytest.fixture
def offline() -> Iterator[list[str]]:
    with no_network() as attempts:
        yield attempts
        assert attempts == []
        assert_guard_active(attempts)


async def finished(client: httpx.AsyncClient, user: SignedIn, task_id: str) -> dict[str, Any]:
    for _ in range(600):
        task = (await client.get(f"/api/tasks/{task_id}", headers=user.headers)).json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return dict(task)
        await asyncio.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish: {task}")


async def test_a_recording_is_transcribed_with_its_checks(
    client: httpx.AsyncClient, user: SignedIn, tmp_path: Path, offline: list[str]
) -> None:
    languages = (await client.get("/api/languages")).json()
    assert languages["transcription"]["enabled"] is True
    assert "English" in languages["transcription"]["languages"]
    wav = speech_wav(tmp_path / "speech.wav")
    started = await client.post(
        "/api/transcriptions",
        headers=user.headers,
        data={"language": "English"},
        files={"audio": ("speech.wav", wav.read_bytes(), "audio/wav")},
    )
    assert started.status_code == 200, started.text
    task = await finished(client, user, started.json()["task_id"])
    assert task["status"] == "completed" and task["type"] == "transcribe", task
    found = task["result"]["transcription"]
    heard = words_of(found["text"])
    assert len(set(heard) & set(words_of(ENGLISH))) >= 6, heard
    assert all(0 <= w["probability"] <= 1 for w in found["words"])
    assert {w["code"] for w in found["warnings"]} >= {"too_little_speech"}  # a 3 s sentence


async def test_a_new_voice_is_checked_against_its_transcript(
    client: httpx.AsyncClient, user: SignedIn, tmp_path: Path, offline: list[str]
) -> None:
    await client.get("/api/languages")  # the API learns the worker transcribes
    wav = speech_wav(tmp_path / "speech.wav")
    cloned = await client.post(
        "/api/clone",
        headers=user.headers,
        data={"name": "Fox", "language": "English", "transcript": "Completely different words."},
        files={"audio": ("speech.wav", wav.read_bytes(), "audio/wav")},
    )
    assert cloned.status_code == 200, cloned.text
    check = await finished(client, user, cloned.json()["check_task_id"])
    assert check["status"] == "completed", check
    [voice] = (await client.get("/api/voices", headers=user.headers)).json()["voices"]
    assert "transcript_mismatch" in {w["code"] for w in voice["warnings"]}
