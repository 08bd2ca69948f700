"""Running one synthesis: the unit of work, its outcome, and the in-process (thread) executor.

An executor owns the synthesis slots. `start(work)` waits for a free slot and returns a `Run`;
the run reports progress and the segments finished so far, can be asked to cancel (honoured
between chunks), and `wait()`s for its `Outcome`. The audio goes straight to WAV files - each
segment on its own as soon as the engine hands it over, and the whole result - never back
through the caller.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from vocalis.worker.engines.base import (
    Engine,
    JobCancelled,
    Progress,
    SynthesisError,
    SynthesisRequest,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Work:
    """What a slot needs to synthesize one job; plain JSON-able data (it crosses processes)."""

    kind: Literal["clone", "design", "transcribe"]
    text: str
    language: str
    out_path: str
    segments_dir: str | None = None  # finished segments go here as {n}.wav, n from 0
    ref_audio_path: str | None = None
    ref_text: str | None = None
    instruct: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Output level (vocalis.worker.loudness): "standard" -> output_lufs; "reference" -> the
    # reference recording's own level.
    loudness: Literal["standard", "reference"] = "standard"
    output_lufs: float = -16.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def request(self) -> SynthesisRequest:
        if self.kind == "transcribe":
            raise ValueError("a transcribe job is not a synthesis")
        return SynthesisRequest(
            kind=self.kind,
            text=self.text,
            language=self.language,
            ref_audio_path=Path(self.ref_audio_path) if self.ref_audio_path else None,
            ref_text=self.ref_text,
            instruct=self.instruct,
            options=dict(self.options),
        )


@dataclass(frozen=True)
class Outcome:
    status: Literal["completed", "failed", "cancelled"]
    error: str | None = None
    duration_seconds: float | None = None  # of the written audio


@dataclass(frozen=True)
class EngineInfo:
    name: str
    sample_rate: int
    languages: tuple[str, ...]
    # The engine conditions on the transcript word for word (Qwen3-TTS in-context cloning), so
    # a transcript that does not match its reference must never reach it.
    exact_transcript: bool = False
    # An engine with several synthesisers (the local engine's bases): name -> its languages.
    bases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, engine: Engine) -> EngineInfo:
        exact = bool(getattr(engine, "exact_transcript", False))
        bases = getattr(engine, "bases", {})
        return cls(
            engine.name,
            int(engine.sample_rate),
            tuple(engine.languages),
            exact,
            {name: tuple(languages) for name, languages in bases.items()},
        )


class Run(Protocol):
    @property
    def progress(self) -> float: ...

    @property
    def segments(self) -> tuple[int, float]:
        """(segments finished, seconds of audio in them) so far."""

    def cancel(self) -> None:
        """Ask the synthesis to stop at its next chunk boundary (or sooner)."""

    async def wait(self) -> Outcome:
        """The outcome; the slot is free again once this returns."""


class Executor(Protocol):
    async def open(self) -> EngineInfo:
        """Make the engine ready (failing loudly if it cannot load) and describe it."""

    async def start(self, work: Work) -> Run:
        """Wait for a free slot and begin `work` in it."""

    async def close(self) -> None: ...


SegmentDone = Callable[[int, float], None]  # (segments finished, seconds of audio in them)


def synthesize_to_file(
    engine: Engine,
    work: Work,
    progress: Progress,
    segment_done: SegmentDone = lambda _count, _seconds: None,
) -> Outcome:
    """Run the engine, writing each segment as a WAV file the moment it is handed over and the
    whole result as another; every failure becomes an Outcome.

    A segment file appears complete (written under a temporary name, then renamed) before
    `segment_done` counts it, so whoever reads the count can fetch that many. The result holds
    the same 16-bit samples as the segments, in order. This is the boundary between the engine
    and the job table, so it catches broadly: the user gets a message, the log the traceback.
    """
    from vocalis.audio import AudioError, WavWriter, pcm16
    from vocalis.worker.loudness import Leveler, reference_lufs

    out = Path(work.out_path)
    # Written under a temporary name so a file at out_path is always complete.
    partial = out.with_name(out.name + ".part")
    segments = Path(work.segments_dir) if work.segments_dir else None
    rate = int(engine.sample_rate)
    try:
        progress(0.0)  # a job cancelled while being handed over stops before any work
        target = work.output_lufs
        if work.loudness == "reference" and work.ref_audio_path is not None:
            target = reference_lufs(Path(work.ref_audio_path))
        level = Leveler(rate, target)
        with WavWriter(partial, rate) as result:
            count = 0
            for audio in engine.synthesize(work.request(), progress):
                pcm = pcm16(level(audio))
                if len(pcm) == 0:
                    continue
                result.write(pcm)
                if segments is not None:
                    _write_wav_atomically(segments / f"{count}.wav", pcm, rate)
                    count += 1
                    segment_done(count, result.frames / rate)
        os.replace(partial, out)
        return Outcome("completed", duration_seconds=result.frames / rate)
    except JobCancelled:
        return Outcome("cancelled")
    except SynthesisError as exc:
        return Outcome("failed", error=str(exc) or "Synthesis failed.")
    except AudioError as exc:
        return Outcome("failed", error=f"The reference audio could not be used. {exc}")
    except Exception:  # noqa: BLE001 - engine boundary: report, never crash the slot
        log.exception("synthesis failed")
        return Outcome("failed", error="Synthesis failed because of an internal engine error.")
    finally:
        partial.unlink(missing_ok=True)


def _write_wav_atomically(path: Path, pcm: Any, rate: int) -> None:
    from vocalis.audio import WavWriter

    partial = path.with_name(path.name + ".part")
    with WavWriter(partial, rate) as out:
        out.write(pcm)
    os.replace(partial, path)


class ThreadRun:
    def __init__(self) -> None:
        self._progress = 0.0
        self._segments: tuple[int, float] = (0, 0.0)
        self._cancelled = threading.Event()
        self.future: asyncio.Future[Outcome] | None = None
        self.release: Callable[[], None] = lambda: None

    @property
    def progress(self) -> float:
        return self._progress

    @property
    def segments(self) -> tuple[int, float]:
        return self._segments

    def segment_done(self, count: int, seconds: float) -> None:
        # Called from the synthesis thread; one tuple assignment, so readers never see a mix.
        self._segments = (count, seconds)

    def report(self, fraction: float) -> None:
        # Called from the synthesis thread, between chunks.
        self._progress = min(max(float(fraction), 0.0), 1.0)
        if self._cancelled.is_set():
            raise JobCancelled

    def cancel(self) -> None:
        self._cancelled.set()

    async def wait(self) -> Outcome:
        assert self.future is not None
        try:
            # A thread cannot be killed, so even a cancelled run holds its slot until the
            # engine reaches its next chunk boundary.
            return await asyncio.shield(self.future)
        finally:
            self.release()


class ThreadSlots:
    """Slots that run jobs in threads of this process: wait for a free one, run there."""

    def __init__(self, concurrency: int, name: str) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name)
        self._runs: set[ThreadRun] = set()

    async def start(self, job: Callable[[ThreadRun], Outcome]) -> ThreadRun:
        """Wait for a slot and run `job(run)` in it; the slot frees when the run is waited."""
        await self._slots.acquire()
        run = ThreadRun()
        self._runs.add(run)

        def release() -> None:
            self._runs.discard(run)
            self._slots.release()

        run.release = release
        run.future = asyncio.get_running_loop().run_in_executor(self._pool, job, run)
        return run

    async def close(self) -> None:
        for run in list(self._runs):
            run.cancel()
        # Waiting for the threads happens off the event loop so shutdown stays responsive.
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)


class ThreadExecutor:
    """Synthesis in threads of this process, with one engine instance shared by all slots.

    For GPU engines (which must not be forked and load their weights once) and for an engine
    handed in by the caller. Use concurrency 1 unless the engine is thread-safe.
    """

    def __init__(self, engine: Engine, concurrency: int = 1) -> None:
        self._engine = engine
        self._slots = ThreadSlots(concurrency, "synth")

    async def open(self) -> EngineInfo:
        return EngineInfo.of(self._engine)

    async def start(self, work: Work) -> Run:
        engine = self._engine
        return await self._slots.start(
            lambda run: synthesize_to_file(engine, work, run.report, run.segment_done)
        )

    async def close(self) -> None:
        await self._slots.close()
