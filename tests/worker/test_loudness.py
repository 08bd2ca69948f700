"""Consistent output loudness: every segment at the target level with true peak <= -1 dBTP,
whatever the reference's level; the reference's own level on request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.worker.harness import read_wav, submit, wait_for, worker
from tests.worker.speech import spoken
from vocalis.audio import write_wav
from vocalis.worker.engines import espeak
from vocalis.worker.loudness import (
    TRUE_PEAK_DBTP,
    Leveler,
    integrated_loudness,
    reference_lufs,
    true_peak,
)

RATE = 16_000
CEILING = 10 ** (TRUE_PEAK_DBTP / 20)


def voiced(seconds: float, level: float, hz: float = 180.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    harmonics = sum(np.sin(2 * np.pi * k * hz * t) / k for k in range(1, 8))
    return (level * harmonics * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


@pytest.mark.parametrize("level", [0.003, 0.05, 0.4, 3.0])  # -3.0: a clipped, too-hot input
def test_each_segment_reaches_the_target_under_the_true_peak_ceiling(level: float) -> None:
    leveled = Leveler(RATE, -16.0)(voiced(2.0, level))
    assert integrated_loudness(leveled, RATE) == pytest.approx(-16.0, abs=0.5)
    assert true_peak(leveled) <= CEILING * 1.001


def test_gain_glides_between_segments_and_silence_keeps_it() -> None:
    level = Leveler(RATE, -20.0)
    quiet, loud = voiced(1.0, 0.01), voiced(1.0, 0.5)
    first, second = level(quiet), level(loud)
    assert abs(integrated_loudness(first, RATE) - integrated_loudness(second, RATE)) < 0.5
    # The first 20 ms of the loud segment still carry some of the quiet one's larger gain...
    start_gain = np.abs(second[:80]).max() / np.abs(loud[:80]).max()
    end_gain = np.abs(second[-3000:]).max() / np.abs(loud[-3000:]).max()
    assert start_gain > end_gain * 1.5
    # ...and the same input always gives the same output (nothing depends on what follows).
    again = Leveler(RATE, -20.0)
    again(quiet)
    np.testing.assert_array_equal(again(loud), second)
    assert not np.any(level(np.zeros(RATE, dtype=np.float32)))  # silence stays silence


def reference(tmp_path: Path, name: str, lufs: float) -> Path:
    speech = spoken("This is my voice, recorded for cloning at some level or other.")
    gain = 10 ** ((lufs - integrated_loudness(speech, espeak.SAMPLE_RATE)) / 20)
    path = tmp_path / f"{name}.wav"
    write_wav(path, np.clip(speech * gain, -1, 1), espeak.SAMPLE_RATE)
    assert reference_lufs(path) == pytest.approx(lufs, abs=0.7)
    return path


@pytest.mark.slow
async def test_quiet_and_loud_references_give_the_same_output_level(tmp_path: Path) -> None:
    import base64

    refs = {
        "quiet": reference(tmp_path, "quiet", -34.0),
        "loud": reference(tmp_path, "loud", -20.0),
    }
    async with worker(tmp_path, engine="local", execution="thread") as w:
        levels: dict[tuple[str, str], float] = {}
        for name, path in refs.items():
            for mode in ("standard", "reference"):
                job = {
                    "type": "clone",
                    "text": "Good morning. The weather is fine today, and the trains run on time.",
                    "language": "English",
                    "ref_text": "This is my voice, recorded for cloning at some level or other.",
                    "ref_audio_base64": base64.b64encode(path.read_bytes()).decode(),
                    # the level logic is the same on every base; espeak needs no style fit
                    "options": {"loudness": mode, "base": "espeak"},
                }
                job_id = await submit(w.client, job)
                status = await wait_for(w.client, job_id, {"completed", "failed"}, timeout=300)
                assert status.status == "completed", status.error
                audio, rate = read_wav((await w.client.get(f"/v1/jobs/{job_id}/result")).content)
                levels[name, mode] = integrated_loudness(audio, rate)
                assert true_peak(audio) <= CEILING * 1.01  # 16-bit rounding aside
    assert abs(levels["quiet", "standard"] - levels["loud", "standard"]) <= 1.0, levels
    assert levels["quiet", "standard"] == pytest.approx(-16.0, abs=1.0)
    # On request, each keeps its reference's level instead.
    assert levels["quiet", "reference"] == pytest.approx(-34.0, abs=1.5), levels
    assert levels["loud", "reference"] == pytest.approx(-20.0, abs=1.5), levels
