"""Fixtures for orchestration tests: a scripted protocol peer, and voices to generate with."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.audio_files import make_wav
from tests.conftest import SignedIn
from vocalis.api.scripted_worker import ScriptedWorker
from vocalis.api.worker_transport import HttpxTransport


@pytest.fixture
def peer() -> ScriptedWorker:
    return ScriptedWorker()


@pytest.fixture
def worker_transport(peer: ScriptedWorker) -> HttpxTransport:
    return peer.transport()


@pytest.fixture
def make_voice(client: httpx.AsyncClient, tmp_path_factory: pytest.TempPathFactory) -> Any:
    async def make(
        owner: SignedIn, name: str = "Narrator", transcript: str = "Hello there."
    ) -> str:
        wav = tmp_path_factory.mktemp("ref") / "reference.wav"
        make_wav(wav, seconds=2.0)
        with wav.open("rb") as f:
            response = await client.post(
                "/api/clone",
                headers=owner.headers,
                data={"name": name, "transcript": transcript, "language": "English"},
                files={"audio": ("reference.wav", f, "audio/wav")},
            )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    return make
