"""The `tone` engine: instant, deterministic audio for testing the machinery around engines.

It speaks no words. Each sentence chunk becomes a tone whose pitch follows from the chunk's text
(a CRC, so the same text always gives the same audio) and whose length follows from its
character count, so results differ by text the way speech does. It behaves like a real engine
where the job protocol and the orchestration can see it: chunks, progress after each one,
cancel between chunks, clone references decoded (a bad one fails the job the same way), and it
costs microseconds, so protocol tests need not run a real synthesiser.

Three options make timing-dependent behaviour testable without wall-clock thresholds:
`tone_hold_after` (int): after that many chunks, wait until the job is cancelled (a job that is
certainly running, with known progress); `tone_stuck_after` (int): after that many chunks, hang
without ever looking at cancel (a chunk that never ends, for the executors' kill path);
`tone_chunk_seconds` (float, at most 2): pause after each chunk, so audio can be seen arriving
over time. They exist for tests and benchmarks only; a hold or hang ends after
MAX_HOLD_SECONDS with a failure, so a forgotten job cannot keep a slot for ever.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines.base import Progress, SynthesisError, SynthesisRequest
from vocalis.worker.engines.text import split_sentences

SAMPLE_RATE = 16_000
CHUNK_CHARS = 60  # about a sentence
SECONDS_PER_CHAR = 0.06  # near a real speaker's pace, so durations look like speech
MIN_CHUNK_SECONDS = 0.25
GAP_SECONDS = 0.1  # silence between chunks
LEVEL = 0.3
MAX_HOLD_SECONDS = 120.0  # a held job nobody cancels fails instead of holding its slot forever
MAX_CHUNK_PAUSE_SECONDS = 2.0
_FADE_SECONDS = 0.01
_HOLD_POLL_SECONDS = 0.005

F32 = npt.NDArray[np.float32]


def chunk_tone(chunk: str, kind: str) -> F32:
    """The deterministic tone for one chunk of text, followed by the gap."""
    seed = zlib.crc32(f"{kind}\0{chunk}".encode())
    frequency = 180.0 + seed % 240  # Hz, spread across a speaking voice's range
    seconds = max(MIN_CHUNK_SECONDS, SECONDS_PER_CHAR * len(chunk))
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = LEVEL * np.sin(2 * np.pi * frequency * t)
    fade = round(_FADE_SECONDS * SAMPLE_RATE)
    ramp = np.linspace(0.0, 1.0, fade)
    tone[:fade] *= ramp  # no clicks at the edges
    tone[-fade:] *= ramp[::-1]
    gap = np.zeros(round(GAP_SECONDS * SAMPLE_RATE))
    return np.concatenate([tone, gap]).astype(np.float32)


class ToneEngine:
    """Deterministic stand-in audio with a real engine's chunking, progress and cancel."""

    name = "tone"
    sample_rate = SAMPLE_RATE
    languages: tuple[str, ...] = LANGUAGES

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        gate_after: int | None = None,
        gate_file: str | None = None,
    ) -> None:
        """`gate_after`/`gate_file` (engine options, for tests of what happens while a job
        runs): after that many chunks of every job, wait until `gate_file` exists."""
        self._clock = clock
        self._sleep = sleep
        self._gate_after = gate_after
        self._gate_file = Path(gate_file) if gate_file else None

    def synthesize(self, request: SynthesisRequest, progress: Progress) -> Iterator[F32]:
        """One tone per sentence chunk, each a segment; progress after each, by characters."""
        if request.kind == "clone":
            _check_reference(request)
        elif request.kind != "design":
            raise SynthesisError(f"The tone engine cannot run {request.kind!r} jobs.")
        chunks = split_sentences(request.text, CHUNK_CHARS)
        if not chunks:
            raise SynthesisError("There is no text to speak.")
        hold_after, stuck_after, pause = _test_options(request.options)
        total = sum(len(chunk) for chunk in chunks)
        done = 0
        progress(0.0)
        for index, chunk in enumerate(chunks):
            yield chunk_tone(chunk, request.kind)
            done += len(chunk)
            progress(done / total)  # raises JobCancelled: stop between chunks
            if pause:
                self._sleep(pause)
            if hold_after is not None and index + 1 == hold_after:
                self._hold(progress, done / total)
            if self._gate_file is not None and index + 1 == self._gate_after:
                self._hold(progress, done / total, until=self._gate_file.exists)
            if stuck_after is not None and index + 1 == stuck_after:
                self._hold(lambda _fraction: None, done / total)

    def _hold(
        self,
        progress: Callable[[float], None],
        fraction: float,
        until: Callable[[], bool] = lambda: False,
    ) -> None:
        deadline = self._clock() + MAX_HOLD_SECONDS
        while self._clock() < deadline:
            progress(fraction)  # raises JobCancelled once the job is cancelled
            if until():
                return
            self._sleep(_HOLD_POLL_SECONDS)
        raise SynthesisError("The tone engine held this job and nobody cancelled it.")


def _check_reference(request: SynthesisRequest) -> None:
    """Decode the reference as real engines do, so a bad one fails the same way."""
    from vocalis.audio import AudioError, decode

    if request.ref_audio_path is None:
        raise SynthesisError("A clone job needs reference audio.")
    try:
        decode(request.ref_audio_path, SAMPLE_RATE)
    except AudioError as exc:
        raise SynthesisError(f"The reference audio could not be used: {exc}") from exc


def _test_options(options: Mapping[str, Any]) -> tuple[int | None, int | None, float]:
    hold, stuck = (_chunk_count(options, name) for name in ("tone_hold_after", "tone_stuck_after"))
    pause = options.get("tone_chunk_seconds", 0.0)
    if isinstance(pause, bool) or not isinstance(pause, int | float) or pause < 0:
        raise SynthesisError("tone_chunk_seconds must be a non-negative number")
    return hold, stuck, min(float(pause), MAX_CHUNK_PAUSE_SECONDS)


def _chunk_count(options: Mapping[str, Any], name: str) -> int | None:
    value = options.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SynthesisError(f"{name} must be a positive integer")
    return value
