"""Streaming on a real `vocalis serve` with its real worker: audio arrives while the task is
still rendering (the order of events, not a stopwatch), decodes, and matches the stored result;
cancel mid-stream ends it and stores nothing.

The embedded worker runs the `tone` engine behind a gate (a file the test creates): the job
renders its first sentence and then waits, so "before completion" is a fact, not a race.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.serve_process import Studio, serving
from vocalis.audio import decode

pytestmark = pytest.mark.slow

TEXT = " ".join(f"Sentence number {n} of a long text that keeps going." for n in range(8))


def gated(tmp_path: Path) -> tuple[dict[str, str], Path]:
    gate = tmp_path / "release"
    options = {"gate_after": 1, "gate_file": str(gate)}
    return {"VOCALIS_ENGINE": "tone", "VOCALIS_WORKER_ENGINE_OPTIONS": json.dumps(options)}, gate


def generation_of(studio: Studio, task_id: str) -> str:
    return str(studio.task(task_id)["generation_id"])


def test_the_stream_starts_before_the_task_completes_and_matches_the_result(
    tmp_path: Path,
) -> None:
    env, gate = gated(tmp_path)
    with serving(tmp_path / "data", env) as serve:
        studio = Studio.sign_up(serve.base, tmp_path)
        task_id = studio.generate(TEXT)
        url = f"{serve.base}/api/generations/{generation_of(studio, task_id)}/stream?format=mp3"
        heard = bytearray()
        with httpx.stream("GET", url, headers=studio.headers, timeout=120) as response:
            assert response.headers["content-type"] == "audio/mpeg"
            chunks = response.iter_bytes()
            heard += next(chunks)  # the first sentence's audio
            during = studio.task(task_id)
            assert during["status"] == "processing" and during["segments_ready"] >= 1, during
            gate.touch()
            for chunk in chunks:
                heard += chunk
        done = studio.poll_until(task_id, ("completed", "failed"), 120)
        assert done["status"] == "completed", done
        stored = tmp_path / "stored.wav"
        stored.write_bytes(studio.audio(done))
        streamed = tmp_path / "streamed.mp3"
        streamed.write_bytes(bytes(heard))
        # MP3 frames pad the end by under 60 ms; nothing is missing or repeated.
        assert len(decode(streamed, 24000)) / 24000 == pytest.approx(
            len(decode(stored, 24000)) / 24000, abs=0.1
        )
        studio.close()


def test_cancel_mid_stream_ends_it_and_stores_nothing(tmp_path: Path) -> None:
    env, _gate = gated(tmp_path)  # never released
    with serving(tmp_path / "data", env) as serve:
        studio = Studio.sign_up(serve.base, tmp_path)
        task_id = studio.generate(TEXT)
        url = f"{serve.base}/api/generations/{generation_of(studio, task_id)}/stream?format=wav"
        with httpx.stream("GET", url, headers=studio.headers, timeout=120) as response:
            chunks = response.iter_bytes()
            first = next(chunks)
            assert first[:4] == b"RIFF"
            cancelled = studio.http.post(f"/api/tasks/{task_id}/cancel", headers=studio.headers)
            assert cancelled.status_code == 200
            rest = b"".join(chunks)  # ends: the iteration finishes
        assert len(first + rest) > 44
        assert studio.task(task_id)["status"] == "cancelled"
        assert not list((tmp_path / "data" / "storage").rglob("generations/*/*.wav"))
        studio.close()
