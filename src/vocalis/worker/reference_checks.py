"""Reference checks: what makes a clone reference a poor one, measured and said in words.

Computed in the worker from the decoded reference (16 kHz mono) and, when the transcription
model is there, its transcript: too quiet, clipped, too noisy (an SNR estimate), too little
speech (an energy voice-activity detector), longer than engines use best (with the best 5-20 s
span to trim to), and a typed transcript that does not match what is said (word error rate).
Warnings never block: the caller shows them beside the form.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from vocalis.worker.loudness import integrated_loudness
from vocalis.worker.transcription.whisper import Transcript, Word

RATE = 16_000
TOO_QUIET_LUFS = -30.0  # speech recorded sensibly sits at -14 to -26 LUFS
CLIP_LEVEL = 0.99
MAX_CLIPPED_SHARE = 0.0005  # of samples in flat-topped runs
MIN_SNR_DB = 20.0  # on the estimate below (loudest 5 % of frames over the quietest 10 %), which
# reads ~4.5 dB above a true speech-to-noise ratio: 20 flags a hiss ~15 dB under the voice, 15
# let one 11 dB under it through; real good references read 29 dB (a phone line) and up
MIN_SPEECH_S = 3.0
BEST_MIN_S, BEST_MAX_S = 5.0, 20.0  # what the engines use best
MAX_WORD_ERROR_RATE = 0.35  # Whisper base alone errs ~10 % on clean speech; a partial or wrong
# transcript is far above this (half the words missing is 0.5)
_FRAME_S = 0.03
_FLOOR_DB = -90.0
_EDGE_S = 0.15  # kept around a proposed span's first and last word
_CJK = frozenset({"Chinese", "Japanese", "Korean"})


@dataclass(frozen=True)
class ReferenceWarning:
    code: str  # too_quiet, clipped, too_noisy, too_little_speech, too_long, transcript_mismatch
    message: str


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    text: str | None  # the words recognised in it, when there is a transcript


@dataclass(frozen=True)
class Checks:
    duration_seconds: float
    loudness_lufs: float
    clipped_share: float
    snr_db: float
    speech_seconds: float
    word_error_rate: float | None  # typed transcript against the recognised one
    best_span: Span | None  # where to trim a reference longer than BEST_MAX_S
    warnings: tuple[ReferenceWarning, ...] = field(default=())


def check_reference(
    audio: npt.ArrayLike,
    transcript: Transcript | None = None,
    typed: str | None = None,
    language: str | None = None,
) -> Checks:
    """Measure a reference (mono float at 16 kHz) and list what is wrong with it."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    duration = len(x) / RATE
    lufs = integrated_loudness(x, RATE)
    clipped = clipped_share(x)
    levels = frame_levels(x)
    noise = float(np.percentile(levels, 10)) if levels.size else _FLOOR_DB
    speech_level = float(np.percentile(levels, 95)) if levels.size else _FLOOR_DB
    snr = speech_level - noise
    threshold = max(noise + 6.0, speech_level - 30.0)
    speech = float(np.count_nonzero(levels > threshold) * _FRAME_S) if levels.size else 0.0
    wer = None
    if transcript is not None and typed and typed.strip():
        wer = error_rate(typed, transcript.text, (language or transcript.language) in _CJK)
    best = best_span(x, transcript.words if transcript else (), levels, threshold)
    warnings: list[ReferenceWarning] = []

    def warn(code: str, message: str) -> None:
        warnings.append(ReferenceWarning(code, message))

    if lufs < TOO_QUIET_LUFS:
        warn(
            "too_quiet",
            f"The recording is very quiet ({lufs:.0f} LUFS); record closer to the "
            "microphone or raise its level.",
        )
    if clipped > MAX_CLIPPED_SHARE:
        warn(
            "clipped",
            "The recording is clipped (distorted by a level that was too high); "
            "record a little quieter.",
        )
    if speech >= 0.5 and snr < MIN_SNR_DB:
        warn(
            "too_noisy",
            f"There is a lot of background noise (about {snr:.0f} dB below the "
            "voice); record somewhere quieter.",
        )
    if speech < MIN_SPEECH_S and not any(w.code == "too_noisy" for w in warnings):
        # (under heavy noise the voice-activity count is no longer trustworthy)
        warn(
            "too_little_speech",
            f"There is little speech in the recording ({speech:.1f} s); "
            f"{BEST_MIN_S:.0f}-{BEST_MAX_S:.0f} s of speech works best.",
        )
    if duration > BEST_MAX_S:
        where = f" (for example {best.start:.1f}-{best.end:.1f} s)" if best else ""
        warn(
            "too_long",
            f"The recording is {duration:.0f} s long; voices clone best from "
            f"{BEST_MIN_S:.0f}-{BEST_MAX_S:.0f} s of speech. Trim it to its best part{where}.",
        )
    if wer is not None and wer > MAX_WORD_ERROR_RATE:
        warn(
            "transcript_mismatch",
            "The transcript does not seem to match what is said "
            f"({wer:.0%} of the words differ from what was heard).",
        )
    return Checks(duration, lufs, clipped, snr, speech, wer, best, tuple(warnings))


def frame_levels(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """RMS level of each 30 ms frame in dBFS (DC removed), floored at -90."""
    size = int(_FRAME_S * RATE)
    frames = x[: len(x) // size * size].reshape(-1, size)
    if frames.size == 0:
        return np.zeros(0)
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return np.maximum(20 * np.log10(rms + 1e-12), _FLOOR_DB)


def clipped_share(x: npt.NDArray[np.float64]) -> float:
    """Share of samples in runs of 3+ at full scale: a clipped waveform's flat tops (a lone
    full-scale sample is a loud peak, not clipping)."""
    hot = np.abs(x) >= CLIP_LEVEL
    if not hot.any():
        return 0.0
    run = hot[:-2] & hot[1:-1] & hot[2:]
    flagged = np.zeros_like(hot)
    flagged[:-2] |= run
    flagged[1:-1] |= run
    flagged[2:] |= run
    return float(np.count_nonzero(flagged) / len(x))


def best_span(
    x: npt.NDArray[np.float64],
    words: tuple[Word, ...],
    levels: npt.NDArray[np.float64],
    threshold: float,
) -> Span | None:
    """For a reference longer than BEST_MAX_S, the 5-20 s stretch with the most (confident)
    speech, cut at word boundaries when the words are known, else at frame boundaries."""
    duration = len(x) / RATE
    if duration <= BEST_MAX_S:
        return None
    if words:
        best: tuple[float, int, int] | None = None
        for i, first in enumerate(words):
            j = i
            while j + 1 < len(words) and words[j + 1].end - first.start <= BEST_MAX_S - 2 * _EDGE_S:
                j += 1
            chosen = words[i : j + 1]
            length = chosen[-1].end - first.start
            if length < BEST_MIN_S:
                continue
            score = sum((w.end - w.start) * w.probability for w in chosen)
            if best is None or score > best[0]:
                best = (score, i, j)
        if best is not None:
            _, i, j = best
            return Span(
                round(max(0.0, words[i].start - _EDGE_S), 2),
                round(min(duration, words[j].end + _EDGE_S), 2),
                " ".join(w.text for w in words[i : j + 1]),
            )
    speech = (levels > threshold).astype(np.float64)
    width = int(BEST_MAX_S / _FRAME_S)
    sums = np.convolve(speech, np.ones(width), mode="valid")
    start = int(np.argmax(sums)) if sums.size else 0
    return Span(
        round(start * _FRAME_S, 2), round(min(duration, (start + width) * _FRAME_S), 2), None
    )


def error_rate(reference: str, hypothesis: str, characters: bool = False) -> float:
    """Word error rate of `hypothesis` against `reference` (edits over reference words), on
    case-folded text without punctuation; by characters for scripts written without spaces."""
    ref, hyp = _tokens(reference, characters), _tokens(hypothesis, characters)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, token in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, other in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token != other)
            )
        previous = current
    return previous[-1] / len(ref)


def _tokens(text: str, characters: bool) -> list[str]:
    kept = "".join(
        " " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text.casefold()
    )
    return [ch for ch in kept if not ch.isspace()] if characters else kept.split()
