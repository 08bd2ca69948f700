"""`transcribe` jobs: Whisper base in a thread of the worker, plus the reference checks.

The model is optional (the `transcription` extra). Whether it is installed is known at once
(health reports it); it is assembled, verified and loaded on the first job, in the job's
thread, so a worker that never transcribes pays nothing. CTranslate2 computes outside the GIL,
so one transcription thread beside the synthesis slots does not stall the server.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from vocalis.protocol import (
    ReferenceMeasures,
    ReferenceSpan,
    ReferenceWarning,
    TranscriptionInfo,
    TranscriptionResult,
    TranscriptWord,
)
from vocalis.worker.engines.base import JobCancelled, Progress
from vocalis.worker.execution import Outcome, ThreadRun, ThreadSlots, Work
from vocalis.worker.reference_checks import RATE, Checks, check_reference
from vocalis.worker.transcription.model_files import (
    INSTALL_HINT,
    ModelUnavailable,
    installed_sources,
)
from vocalis.worker.transcription.whisper import Transcriber, Transcript

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)


def availability() -> TranscriptionInfo:
    """Whether the model and faster-whisper are installed (cheap: nothing is loaded)."""
    try:
        installed_sources()
        if importlib.util.find_spec("faster_whisper") is None:
            raise ModelUnavailable(f"faster-whisper is not installed: {INSTALL_HINT}")
    except ModelUnavailable as exc:
        return TranscriptionInfo(enabled=False, reason=str(exc))
    return TranscriptionInfo(
        enabled=True, languages=list(Transcriber.languages), model=Transcriber.name
    )


class TranscriptionExecutor:
    """One transcription at a time, in a thread, with the model loaded on first use."""

    def __init__(self, models_dir: Path, threads: int = 1, enabled: bool = True) -> None:
        self.info = availability() if enabled else TranscriptionInfo(reason="turned off")
        self._models_dir = models_dir
        self._threads = threads
        self._transcriber: Transcriber | None = None
        # One model, used by one thread at a time (faster-whisper does not promise more).
        self._lock = threading.Lock()
        self._slots = ThreadSlots(1, "transcribe")

    def transcribe(
        self, audio: npt.NDArray[np.float32], language: str, progress: Progress | None = None
    ) -> Transcript:
        with self._lock:
            if self._transcriber is None:
                self._transcriber = Transcriber.from_cache(self._models_dir, self._threads)
            return self._transcriber.transcribe(audio, language=language, progress=progress)

    async def start(self, work: Work) -> ThreadRun:
        return await self._slots.start(lambda run: transcribe_to_file(self, work, run.report))

    async def transcript_matches(self, reference: Path, typed: str, language: str) -> bool:
        """Whether `typed` is what is said in `reference` (the clone path's check for engines
        that need an exact transcript)."""
        return await asyncio.to_thread(self._matches, reference, typed, language)

    def _matches(self, reference: Path, typed: str, language: str) -> bool:
        from vocalis.audio import decode

        audio = decode(reference, RATE)
        checks = check_reference(audio, self.transcribe(audio, language), typed, language)
        return not any(w.code == "transcript_mismatch" for w in checks.warnings)

    async def close(self) -> None:
        await self._slots.close()


def transcribe_to_file(executor: TranscriptionExecutor, work: Work, progress: Progress) -> Outcome:
    """Transcribe and check the reference, writing a TranscriptionResult as JSON; every
    failure becomes an Outcome (this is the boundary between the model and the job table)."""
    from vocalis.audio import AudioError, decode

    out = Path(work.out_path)
    partial = out.with_name(out.name + ".part")
    try:
        progress(0.0)
        if work.ref_audio_path is None:
            return Outcome("failed", error="A transcribe job needs reference audio.")
        audio = decode(Path(work.ref_audio_path), RATE)
        transcript = executor.transcribe(audio, work.language, progress)
        checks = check_reference(audio, transcript, work.ref_text, work.language)
        partial.write_text(result_json(transcript, checks))
        os.replace(partial, out)
        return Outcome("completed", duration_seconds=checks.duration_seconds)
    except JobCancelled:
        return Outcome("cancelled")
    except AudioError as exc:
        return Outcome("failed", error=f"The reference audio could not be used. {exc}")
    except ModelUnavailable as exc:
        return Outcome("failed", error=str(exc))
    except Exception:  # noqa: BLE001 - model boundary: report, never crash the slot
        log.exception("transcription failed")
        return Outcome("failed", error="Transcription failed because of an internal error.")
    finally:
        partial.unlink(missing_ok=True)


def result_json(transcript: Transcript, checks: Checks) -> str:
    best = checks.best_span
    result = TranscriptionResult(
        text=transcript.text,
        language=transcript.language,
        words=[
            TranscriptWord(text=w.text, start=w.start, end=w.end, probability=w.probability)
            for w in transcript.words
        ],
        warnings=[ReferenceWarning(code=w.code, message=w.message) for w in checks.warnings],
        best_segment=(
            None if best is None else ReferenceSpan(start=best.start, end=best.end, text=best.text)
        ),
        measures=ReferenceMeasures(
            duration_seconds=round(checks.duration_seconds, 3),
            loudness_lufs=round(checks.loudness_lufs, 2),
            clipped_share=round(checks.clipped_share, 5),
            snr_db=round(checks.snr_db, 1),
            speech_seconds=round(checks.speech_seconds, 2),
            word_error_rate=(
                None if checks.word_error_rate is None else round(checks.word_error_rate, 3)
            ),
        ),
    )
    return json.dumps(result.model_dump())
