"""A clone job on the Kokoro base through the real job protocol, offline: the real worker app
runs the real `local` engine (in a thread, so the socket guard covers the synthesis too), the
first job with a new voice fits its style with progress, a second (naming no base: English
defaults to Kokoro) reuses it, and Whisper base hears the words."""

from __future__ import annotations

import asyncio
import base64
from math import gcd
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly

from tests.offline import assert_guard_active, no_network
from tests.worker.engines.test_local import make_reference
from tests.worker.harness import read_wav, submit, worker
from tests.worker.speech import words_of
from vocalis.protocol import LANGUAGES, Health, JobStatus
from vocalis.worker.engines.local import FIT_SHARE

pytest.importorskip("faster_whisper", reason="the transcription extra is not installed")

TEXT = "Please bring the recordings before lunch."
KOKORO_LANGUAGES = ["English", "Japanese", "French", "Portuguese", "Spanish", "Italian"]


async def follow(client: object, job_id: str) -> tuple[JobStatus, list[float]]:
    """Poll until the job is terminal; the distinct progress values seen on the way."""
    seen: list[float] = []
    while True:
        response = await client.get(f"/v1/jobs/{job_id}")  # type: ignore[attr-defined]
        status = JobStatus.model_validate(response.json())
        if status.progress is not None and (not seen or seen[-1] != status.progress):
            seen.append(status.progress)
        if status.status in {"completed", "failed", "cancelled"}:
            return status, seen
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_health_lists_the_bases_from_the_worker_processes(tmp_path: Path) -> None:
    async with worker(tmp_path, engine="local", execution="process") as w:
        health = Health.model_validate((await w.client.get("/v1/health")).json())
    assert health.bases == {"espeak": list(LANGUAGES[1:]), "kokoro": KOKORO_LANGUAGES}


@pytest.mark.slow
async def test_a_kokoro_clone_job_runs_offline_end_to_end(tmp_path: Path) -> None:
    from vocalis.worker.transcription import Transcriber

    reference = make_reference(tmp_path / "ref.wav", 200.0, 1.05, -20.0)
    body = {
        "type": "clone",
        "text": TEXT,
        "language": "English",
        "ref_audio_base64": base64.b64encode(reference.read_bytes()).decode(),
        "ref_text": "When the sunlight strikes raindrops in the air.",
        "options": {"base": "kokoro"},
    }
    options = {"cache_dir": str(tmp_path / "voices"), "style_renders": 2}
    with no_network() as attempts:
        assert_guard_active(attempts)
        async with worker(
            tmp_path, engine="local", execution="thread", engine_options=options
        ) as w:
            bases = (await w.client.get("/v1/health")).json()["bases"]
            assert bases["kokoro"] == KOKORO_LANGUAGES
            first, progress = await follow(w.client, await submit(w.client, body))
            assert first.status == "completed", first.error
            # The style fit took the first part of the bar, then speaking the rest.
            assert any(0 < p <= FIT_SHARE for p in progress) and progress[-1] == 1.0
            audio, rate = read_wav((await w.client.get(f"/v1/jobs/{first.job_id}/result")).content)
            plain = {**body, "options": {}}
            second, _ = await follow(w.client, await submit(w.client, plain))
            assert second.status == "completed"
            again, _ = read_wav((await w.client.get(f"/v1/jobs/{second.job_id}/result")).content)
        assert list((tmp_path / "voices").glob("*.kokoro-style.npz")), "the fit was cached"
        # The same fitted style spoke both times: English defaults to Kokoro.
        assert len(again) == len(audio)
        transcriber = Transcriber.from_cache(tmp_path / "models", threads=1)
        heard = transcriber.transcribe(_to_16k(audio, rate), language="English").text
        assert attempts == []
    expected = words_of(TEXT)
    # A word may slip (the stock voices have an accent); a voice that mumbles loses several.
    assert sum(word in words_of(heard) for word in expected) >= len(expected) - 1, heard


def _to_16k(audio: np.ndarray, rate: int) -> npt.NDArray[np.float32]:
    step = gcd(16_000, rate)
    return resample_poly(audio, 16_000 // step, rate // step).astype(np.float32)
