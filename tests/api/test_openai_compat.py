"""The OpenAI-compatible API, driven by the real `openai` Python SDK (pointed at the app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from tests.conftest import SignedIn
from vocalis.api.config import Settings
from vocalis.api.scripted_worker import ScriptedWorker, tone_wav


@pytest.fixture
async def sdk(app: FastAPI, client: httpx.AsyncClient, user: SignedIn) -> AsyncIterator[Any]:
    key = (await client.post("/api/api-keys", headers=user.headers, json={"name": "sdk"})).json()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with openai.AsyncOpenAI(
        base_url="http://testserver/v1", api_key=key["key"], http_client=http, max_retries=0
    ) as client_:
        yield client_


async def test_speech_create_returns_the_audio_and_leaves_a_task_in_history(
    sdk: Any, client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    await make_voice(user, name="Narrator")
    peer.use_segments([tone_wav(0.5), tone_wav(0.5)])
    peer.auto_complete = True
    audio = await sdk.audio.speech.create(
        model="tts-1", voice="narrator", input="Hello there. How are you?", response_format="wav"
    )
    data = audio.read()
    assert data[:4] == b"RIFF" and len(data) > 44 + 2 * 24000 * 0.9  # about a second of audio
    feed = (await client.get("/api/tasks", headers=user.headers)).json()["tasks"]
    assert feed[0]["metadata"]["via"] == "openai" and feed[0]["status"] == "completed"
    history = (await client.get("/api/generations", headers=user.headers)).json()["generations"]
    assert history[0]["text"] == "Hello there. How are you?"


async def test_streaming_response_and_every_format(
    sdk: Any, user: SignedIn, make_voice: Any, peer: ScriptedWorker, settings: Settings
) -> None:
    from vocalis.audio import decode

    voice = await make_voice(user)
    peer.use_segments([tone_wav(0.6), tone_wav(0.6)])
    peer.auto_complete = True
    for fmt in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
        async with sdk.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice=voice, input="Hi.", response_format=fmt
        ) as response:
            body = b"".join([chunk async for chunk in response.iter_bytes()])
        assert response.headers["content-type"].startswith("audio/"), fmt
        if fmt == "pcm":  # raw 16-bit mono at 24 kHz
            assert len(body) / 2 / 24000 == pytest.approx(1.2, abs=0.05)
            continue
        path = settings.data_dir / f"speech.{fmt}"
        path.write_bytes(body)
        assert len(decode(path, 24000)) / 24000 == pytest.approx(1.2, abs=0.1), fmt


async def test_speed_is_passed_to_the_engine(
    sdk: Any, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    voice = await make_voice(user)
    peer.auto_complete = True
    await sdk.audio.speech.create(model="tts-1", voice=voice, input="Quick.", speed=1.5)
    assert peer.submitted[-1]["options"] == {"speed": 1.5}


async def test_models_and_voices(
    sdk: Any, client: httpx.AsyncClient, user: SignedIn, make_voice: Any
) -> None:
    voice = await make_voice(user, name="Narrator")
    models = [m.id async for m in sdk.models.list()]
    assert "tts-1" in models and "gpt-4o-mini-tts" in models
    voices = (await client.get("/v1/audio/voices", headers=user.headers)).json()["voices"]
    assert voices == [
        {"id": voice, "name": "Narrator", "language": "English", "source": "uploaded"}
    ]


async def test_errors_are_openais_and_the_sdk_raises_its_own_exceptions(
    app: FastAPI, sdk: Any, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    voice = await make_voice(user)
    with pytest.raises(openai.BadRequestError) as unknown_voice:
        await sdk.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
    assert unknown_voice.value.body["param"] == "voice" and "alloy" in unknown_voice.value.message
    with pytest.raises(openai.BadRequestError) as bad_model:
        await sdk.audio.speech.create(model="whisper-1", voice=voice, input="Hi.")
    assert bad_model.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as too_fast:
        await sdk.audio.speech.create(model="tts-1", voice=voice, input="Hi.", speed=9)
    assert too_fast.value.body["param"] == "speed"
    with pytest.raises(openai.BadRequestError):
        await sdk.audio.speech.create(model="tts-1", voice=voice, input="x" * 10_001)
    anonymous = sdk.with_options(api_key="vk_not-a-real-key")
    with pytest.raises(openai.AuthenticationError):
        await anonymous.audio.speech.create(model="tts-1", voice=voice, input="Hi.")

    app.state.settings.speech_wait_seconds = 0  # nothing will be ready in no time
    with pytest.raises(openai.APIStatusError) as waited:
        await sdk.audio.speech.create(model="tts-1", voice=voice, input="Still going.")
    assert waited.value.status_code == 504 and "task" in waited.value.message
    for _ in range(3):  # the cap: 4 active tasks (one is the 504's, still running)
        with pytest.raises(openai.APIStatusError):
            await sdk.audio.speech.create(model="tts-1", voice=voice, input="More.")
    with pytest.raises(openai.ConflictError) as capped:
        await sdk.audio.speech.create(model="tts-1", voice=voice, input="One more.")
    assert "limit is 4" in capped.value.message


async def test_a_failed_synthesis_is_a_502(
    sdk: Any, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    voice = await make_voice(user)
    peer.auto_fail = "The engine could not speak this."
    with pytest.raises(openai.APIStatusError) as failed:
        await sdk.audio.speech.create(model="tts-1", voice=voice, input="Hi.")
    assert failed.value.status_code == 502 and "could not speak" in failed.value.message
