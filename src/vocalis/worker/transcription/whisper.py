"""Speech to text: faster-whisper running the verified Whisper base folder, on the CPU, offline.

int8 on the CPU is what the measurements behind issue 13 used (WER 8.5 % on four real
references, real-time factor ~0.13 on one thread, ~350 MB peak). The folder is loaded by path
with `local_files_only=True`; with tokenizer.json inside it, faster-whisper fetches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vocalis.protocol import LANGUAGES
from vocalis.worker.transcription.model_files import INSTALL_HINT, ModelUnavailable, model_dir

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAMPLE_RATE = 16_000  # what Whisper's feature extractor expects

# Our language names (protocol.LANGUAGES, "Auto" aside) as Whisper's codes; Whisper base knows
# many more, and a transcript in one of those reports the bare code.
WHISPER_CODES: dict[str, str] = {
    "English": "en",
    "Chinese": "zh",
    "Japanese": "ja",
    "Korean": "ko",
    "German": "de",
    "French": "fr",
    "Russian": "ru",
    "Portuguese": "pt",
    "Spanish": "es",
    "Italian": "it",
}
_NAMES = {code: name for name, code in WHISPER_CODES.items()}
assert set(WHISPER_CODES) == set(LANGUAGES) - {"Auto"}


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the audio
    end: float
    probability: float  # the recogniser's confidence in this word, 0-1


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # a name from protocol.LANGUAGES, or Whisper's code for any other language
    words: tuple[Word, ...]
    duration_seconds: float  # of the audio transcribed


class Transcriber:
    """One loaded Whisper base model. Not thread-safe: use one per thread or process."""

    name = "whisper-base"
    languages: tuple[str, ...] = tuple(WHISPER_CODES)

    def __init__(self, folder: Path, threads: int = 1, compute_type: str = "int8") -> None:
        """Load the model in `folder` (see model_files.model_dir) with `threads` CPU threads."""
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelUnavailable(f"faster-whisper is not installed: {INSTALL_HINT}") from exc
        self._model = WhisperModel(
            str(folder),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )

    @classmethod
    def from_cache(cls, cache_dir: Path, threads: int = 1) -> Transcriber:
        """Assemble (once) and verify the model under `cache_dir`, then load it."""
        return cls(model_dir(cache_dir), threads=threads)

    def transcribe(
        self,
        audio: Path | npt.NDArray[np.float32],
        language: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        """Transcribe a file (any format vocalis.audio decodes) or mono float32 at 16 kHz.

        `language`: a name from protocol.LANGUAGES to skip detection; None or "Auto" detects.
        `progress(fraction)` is called after each recognised segment (it may raise to stop).
        """
        import numpy as np

        if isinstance(audio, Path):
            from vocalis.audio import decode

            samples = decode(audio, SAMPLE_RATE)
        else:
            samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration = len(samples) / SAMPLE_RATE
        segments, info = self._model.transcribe(
            samples,
            language=WHISPER_CODES.get(language or "Auto"),
            word_timestamps=True,
            # Each 30 s window decodes on its own: conditioning on the previous window's text is
            # what lets Whisper loop on a repeated phrase, and references are short anyway.
            condition_on_previous_text=False,
            vad_filter=False,
        )
        words: list[Word] = []
        texts: list[str] = []
        for segment in segments:  # a generator: decoding happens as it is consumed
            texts.append(segment.text.strip())
            words.extend(_words(segment))
            if progress is not None and duration > 0:
                progress(min(1.0, float(segment.end) / duration))
        return Transcript(
            text=" ".join(t for t in texts if t),
            language=_NAMES.get(info.language, info.language),
            words=tuple(words),
            duration_seconds=round(duration, 3),
        )


def _words(segment: Any) -> list[Word]:
    return [
        Word(
            text=word.word.strip(),
            start=round(float(word.start), 3),
            end=round(float(word.end), 3),
            probability=round(float(word.probability), 4),
        )
        for word in segment.words or ()
        if word.word.strip()
    ]
