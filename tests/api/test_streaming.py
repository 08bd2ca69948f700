"""Listening while it renders (GET /api/generations/{id}/stream), against the scripted worker:
outcomes and counts. The order of events in time is tested against a real `vocalis serve`
(tests/test_streaming_serve.py): this in-process client only sees a response once it ends."""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Any

import httpx
import pytest

from tests.api.test_tasks import generate, poll, stored_generations
from tests.conftest import SignedIn
from vocalis.api.scripted_worker import ScriptedWorker, tone_wav

SEGMENTS = [tone_wav(0.4), tone_wav(0.6), tone_wav(0.5)]


def pcm_of_stream(body: bytes) -> bytes:
    """The samples of a streamed WAV (its header says "unknown length": 44 bytes, then PCM)."""
    assert body[:4] == b"RIFF" and body[36:40] == b"data"
    return body[44:]


def pcm_of_wav(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as w:
        return w.readframes(w.getnframes())


async def listen(client: httpx.AsyncClient, user: SignedIn, generation_id: str, fmt: str = "wav"):
    return await client.get(
        f"/api/generations/{generation_id}/stream", params={"format": fmt}, headers=user.headers
    )


async def test_two_listeners_and_a_poller_finalize_once_and_hear_the_stored_audio(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker, settings
) -> None:
    peer.use_segments(SEGMENTS)
    started = await generate(client, user, await make_voice(user))
    listeners = [asyncio.create_task(listen(client, user, started["generation_id"])) for _ in "ab"]
    peer.ready(1)
    while peer.calls["segment"] < 2:  # each listener fetched the first segment
        await asyncio.sleep(0.01)
    peer.ready(2)
    await poll(client, user, started["task_id"])
    peer.complete_all()
    streams = await asyncio.gather(*listeners)
    done = await poll(client, user, started["task_id"])
    assert done["status"] == "completed"
    assert peer.calls["result"] == 1 and len(stored_generations(settings)) == 1
    stored = pcm_of_wav(stored_generations(settings)[0].read_bytes())
    for stream in streams:
        assert stream.status_code == 200 and stream.headers["content-type"] == "audio/wav"
        assert pcm_of_stream(stream.content) == stored  # segments, then the rest: gapless


async def test_a_worker_without_segments_still_streams_the_result(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker, settings
) -> None:
    assert peer.segments is None
    started = await generate(client, user, await make_voice(user))
    listener = asyncio.create_task(listen(client, user, started["generation_id"]))
    while peer.calls["status"] < 1:  # the listener is polling
        await asyncio.sleep(0.01)
    peer.complete_all()
    stream = await listener
    assert peer.calls["segment"] == 0 and peer.calls["result"] == 1
    assert pcm_of_stream(stream.content) == pcm_of_wav(peer.result)


async def test_cancel_mid_stream_ends_it_and_stores_nothing(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker, settings
) -> None:
    peer.use_segments(SEGMENTS)
    started = await generate(client, user, await make_voice(user))
    listener = asyncio.create_task(listen(client, user, started["generation_id"]))
    peer.ready(1)
    while peer.calls["segment"] < 1:
        await asyncio.sleep(0.01)
    cancelled = await client.post(f"/api/tasks/{started['task_id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 200
    stream = await listener
    assert stream.status_code == 200
    assert pcm_of_stream(stream.content) == pcm_of_wav(SEGMENTS[0])  # what was heard, no more
    assert stored_generations(settings) == [] and peer.calls["result"] == 0


async def test_a_listener_after_completion_gets_the_stored_audio_as_mp3(
    app, client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker, settings
) -> None:
    from vocalis.audio import decode

    peer.use_segments(SEGMENTS)
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"
    await app.state.tasks.drain()  # the worker was told to drop the job
    calls = dict(peer.calls)
    stream = await listen(client, user, started["generation_id"], "mp3")
    assert stream.status_code == 200 and stream.headers["content-type"] == "audio/mpeg"
    assert dict(peer.calls) == calls  # nothing asked of the worker
    path = settings.data_dir / "heard.mp3"
    path.write_bytes(stream.content)
    assert len(decode(path, 24000)) / 24000 == pytest.approx(1.5, abs=0.1)


async def test_a_failed_task_ends_the_stream(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    peer.use_segments(SEGMENTS)
    started = await generate(client, user, await make_voice(user))
    listener = asyncio.create_task(listen(client, user, started["generation_id"]))
    while peer.calls["status"] < 1:
        await asyncio.sleep(0.01)
    peer.fail_all("The engine gave up.")
    stream = await listener
    assert stream.status_code == 200 and stream.content == b""  # nothing was rendered
    late = await listen(client, user, started["generation_id"])
    assert late.status_code == 404 and late.json()["detail"] == "Generation audio not available."


async def test_stream_access(
    client: httpx.AsyncClient, user: SignedIn, other_user: SignedIn, make_voice: Any
) -> None:
    started = await generate(client, user, await make_voice(user))
    path = f"/api/generations/{started['generation_id']}/stream"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=other_user.headers)).status_code == 404
    assert (await client.get(path + "?format=ogg", headers=user.headers)).status_code == 400


async def test_progress_and_remaining_time_come_from_the_jobs_own_rate(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    peer.use_segments(SEGMENTS)
    started = await generate(client, user, await make_voice(user))
    peer.ready(1)
    peer.rate = {"text_chars_done": 10, "text_chars_total": 40, "running_seconds": 2.0}
    task = await poll(client, user, started["task_id"])
    assert task["segments_ready"] == 1 and task["remaining_seconds"] == pytest.approx(6.0)
    assert task["progress"] == pytest.approx(1 / 3)
