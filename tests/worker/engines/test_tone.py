"""The tone engine: deterministic, chunked like a real engine, honouring progress and cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.audio_files import make_wav
from vocalis.worker.engines import load_engine
from vocalis.worker.engines.base import (
    JobCancelled,
    SynthesisError,
    SynthesisRequest,
    synthesize_whole,
)
from vocalis.worker.engines.tone import (
    MAX_HOLD_SECONDS,
    SAMPLE_RATE,
    ToneEngine,
    chunk_tone,
)

THREE = (
    "The first sentence is here and it runs on for a while. "
    "A second one follows it, also of a decent length. "
    "And the third closes the paragraph."
)


def design(text: str, **options: object) -> SynthesisRequest:
    return SynthesisRequest("design", text, "English", instruct="a voice", options=options)


def test_same_text_same_audio_and_different_text_different_audio() -> None:
    engine = load_engine("tone")
    first = synthesize_whole(engine, design(THREE), lambda _f: None)
    again = synthesize_whole(engine, design(THREE), lambda _f: None)
    other = synthesize_whole(engine, design(THREE.replace("first", "fifth")), lambda _f: None)
    assert first.dtype == np.float32 and np.array_equal(first, again)
    assert not np.array_equal(first[: len(other)], other[: len(first)])
    assert 0.1 < np.abs(first).max() <= 1.0


def test_one_tone_per_chunk_with_pitch_and_length_from_the_text() -> None:
    fractions: list[float] = []

    def progress(fraction: float) -> None:
        fractions.append(fraction)

    audio = synthesize_whole(ToneEngine(), design(THREE), progress)
    chunks = [
        "The first sentence is here and it runs on for a while.",
        "A second one follows it, also of a decent length.",
        "And the third closes the paragraph.",
    ]
    assert np.array_equal(audio, np.concatenate([chunk_tone(c, "design") for c in chunks]))
    # Progress by characters done, once per chunk after the start.
    total = sum(len(c) for c in chunks)
    assert fractions == [0.0, len(chunks[0]) / total, (total - len(chunks[2])) / total, 1.0]
    pitches = {_pitch(chunk_tone(c, "design")) for c in chunks}
    assert len(pitches) == 3
    lengths = [len(chunk_tone(c, "design")) for c in chunks]
    assert lengths[0] > lengths[2]  # the longer sentence lasts longer


def _pitch(tone: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(tone))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(tone))


def test_a_cancel_stops_between_chunks() -> None:
    calls: list[float] = []

    def progress(fraction: float) -> None:
        calls.append(fraction)
        if fraction > 0:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        synthesize_whole(ToneEngine(), design(THREE), progress)
    assert len(calls) == 2  # the start, then the first chunk; nothing after the cancel


def test_a_held_job_waits_for_its_cancel() -> None:
    now = [0.0]
    cancelled_at = 30.0

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def progress(fraction: float) -> None:
        if now[0] >= cancelled_at:
            raise JobCancelled

    engine = ToneEngine(clock=lambda: now[0], sleep=sleep)
    with pytest.raises(JobCancelled):
        synthesize_whole(engine, design(THREE, tone_hold_after=1), progress)
    assert now[0] == pytest.approx(cancelled_at, abs=0.01)


def test_a_held_job_nobody_cancels_fails_in_the_end() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    engine = ToneEngine(clock=lambda: now[0], sleep=sleep)
    with pytest.raises(SynthesisError, match="nobody cancelled"):
        synthesize_whole(engine, design(THREE, tone_hold_after=2), lambda _f: None)
    assert now[0] >= MAX_HOLD_SECONDS


def test_a_stuck_job_ignores_its_cancel_until_it_gives_up() -> None:
    now = [0.0]
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def progress(fraction: float) -> None:
        asked.append(fraction)
        if now[0] > 0:  # cancelled as soon as it starts to hang
            raise JobCancelled

    engine = ToneEngine(clock=lambda: now[0], sleep=sleep)
    with pytest.raises(SynthesisError, match="nobody cancelled"):
        synthesize_whole(engine, design(THREE, tone_stuck_after=1), progress)
    assert len(asked) == 2 and now[0] >= MAX_HOLD_SECONDS  # never looked while stuck


def test_a_chunk_pause_is_taken_after_each_chunk() -> None:
    pauses: list[float] = []
    engine = ToneEngine(sleep=pauses.append)
    synthesize_whole(engine, design(THREE, tone_chunk_seconds=0.25), lambda _f: None)
    assert pauses == [0.25, 0.25, 0.25]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tone_hold_after": 0}, "tone_hold_after"),
        ({"tone_hold_after": True}, "tone_hold_after"),
        ({"tone_stuck_after": "1"}, "tone_stuck_after"),
        ({"tone_chunk_seconds": -1}, "tone_chunk_seconds"),
        ({"tone_chunk_seconds": "x"}, "tone_chunk_seconds"),
    ],
)
def test_bad_test_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(SynthesisError, match=message):
        synthesize_whole(ToneEngine(), design(THREE, **options), lambda _f: None)


def test_clone_decodes_its_reference_like_a_real_engine(tmp_path: Path) -> None:
    good = make_wav(tmp_path / "ref.wav", seconds=1.0)
    clone = SynthesisRequest("clone", "Hi there.", "English", ref_audio_path=good, ref_text="x")
    assert len(synthesize_whole(ToneEngine(), clone, lambda _f: None)) > 0

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(SynthesisError, match="reference audio could not be used"):
        synthesize_whole(
            ToneEngine(),
            SynthesisRequest("clone", "Hi.", "English", ref_audio_path=bad, ref_text="x"),
            lambda _f: None,
        )
    with pytest.raises(SynthesisError, match="needs reference audio"):
        synthesize_whole(ToneEngine(), SynthesisRequest("clone", "Hi.", "English"), lambda _f: None)
