"""A worker that hangs, restarts, or answers oddly never turns into a 500, a stalled request or
a leaked address (issue: hardening)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_tasks import generate, poll
from tests.audio_files import make_wav
from tests.conftest import SignedIn
from vocalis.api.app import create_app
from vocalis.api.config import Settings
from vocalis.api.scripted_worker import ScriptedWorker


async def test_a_worker_sending_only_the_contracts_fields_is_understood(
    client: httpx.AsyncClient, user: SignedIn, make_voice, peer: ScriptedWorker
) -> None:
    assert set(peer.health) == {"engine", "languages", "queue_depth", "capacity"}
    languages = (await client.get("/api/languages")).json()
    assert languages["provider"] == "scripted"
    await make_voice(user)  # clone works (and never asks the worker anything)
    assert peer.calls["health"] == 1  # only /api/languages asked, once


async def test_a_malformed_status_is_an_upstream_error_not_a_500(
    client: httpx.AsyncClient, user: SignedIn, make_voice, peer: ScriptedWorker
) -> None:
    started = await generate(client, user, await make_voice(user))
    for garbage in (b"not json", b"{}", b'{"job_id": 1, "status": "dancing"}', b"[]"):
        peer.raw_status = garbage
        answer = await poll(client, user, started["task_id"])
        assert answer["status"] == "processing" and answer["modal_status"] == "status_error"
    peer.raw_status = None
    peer.complete_all()
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"


async def test_the_worker_is_told_to_drop_a_stored_result(
    app, client: httpx.AsyncClient, user: SignedIn, make_voice, peer: ScriptedWorker
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"
    await app.state.tasks.drain()
    assert peer.calls["forget"] == 1 and peer.jobs == {}


class HangingWorker:
    """A real TCP server that accepts connections and never answers a byte."""

    def __init__(self) -> None:
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()


@pytest.fixture
async def hanging(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, HangingWorker]]:
    worker = HangingWorker()
    url = await worker.start()
    hung = settings.model_copy(
        update={
            "worker_url": url,
            "worker_connect_timeout_seconds": 0.5,
            "worker_timeout_seconds": 0.5,
            "worker_submit_timeout_seconds": 0.5,
        }
    )
    app = create_app(hung)  # the production transport (aiohttp), over a real socket
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, worker
    await worker.stop()


async def test_against_a_hanging_worker(
    hanging: tuple[httpx.AsyncClient, HangingWorker], tmp_path: Path
) -> None:
    client, worker = hanging
    session = (
        await client.post("/auth/v1/signup", json={"email": "h@example.com", "password": "x" * 12})
    ).json()
    headers = {"Authorization": f"Bearer {session['access_token']}"}

    # Clone never waits on the worker.
    make_wav(tmp_path / "ref.wav", seconds=2.0)
    cloned = await client.post(
        "/api/clone",
        headers=headers,
        data={"name": "N", "transcript": "Hello there.", "language": "English"},
        files={"audio": ("ref.wav", (tmp_path / "ref.wav").read_bytes(), "audio/wav")},
    )
    assert cloned.status_code == 200 and worker.connections == 0

    # The public languages route asks once, and remembers the failure.
    for _ in range(3):
        languages = await client.get("/api/languages")
        assert languages.status_code == 200 and languages.json()["provider"] is None
    assert worker.connections == 1

    # Generate gives up within its bounds: 503, with no address in what users read.
    started = await client.post(
        "/api/generate",
        headers=headers,
        json={"voice_id": cloned.json()["id"], "text": "Hi.", "language": "English"},
    )
    assert started.status_code == 503, started.text
    detail = started.json()["detail"]
    assert "not answering" in detail and "127.0.0.1" not in detail
    feed = (await client.get("/api/tasks", headers=headers)).json()["tasks"]
    assert feed[0]["status"] == "failed" and "127.0.0.1" not in feed[0]["error"]
