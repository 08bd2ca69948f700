"""Generated audio in the formats people download: WAV by redirect, MP3/Opus/FLAC encoded as
it streams, named after the voice and the date."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_tasks import generate, poll
from tests.conftest import SignedIn
from vocalis.api.config import Settings
from vocalis.api.scripted_worker import ScriptedWorker, tone_wav


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("flac", "audio/flac")],
)
async def test_encoded_downloads_decode_to_the_same_audio(
    client: httpx.AsyncClient,
    user: SignedIn,
    make_voice: Any,
    peer: ScriptedWorker,
    settings: Settings,
    fmt: str,
    content_type: str,
) -> None:
    from vocalis.audio import decode

    peer.result = tone_wav(2.0)
    started = await generate(client, user, await make_voice(user, name="Lighthouse keeper"))
    peer.complete_all()
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"
    path = f"/api/generations/{started['generation_id']}/audio"
    response = await client.get(path, params={"format": fmt}, headers=user.headers)
    assert response.status_code == 200 and response.headers["content-type"] == content_type
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Lighthouse-keeper-20')
    assert disposition.endswith(f'.{fmt}"')
    out = settings.data_dir / f"download.{fmt}"
    out.write_bytes(response.content)
    assert len(decode(out, 24000)) / 24000 == pytest.approx(2.0, abs=0.08)

    wav = await client.get(path, headers=user.headers)
    assert wav.status_code == 302
    bad = await client.get(path, params={"format": "exe"}, headers=user.headers)
    assert bad.status_code == 400
