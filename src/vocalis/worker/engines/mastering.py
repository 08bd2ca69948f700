"""Finishing the output: trim and fade each chunk, match loudness, limit peaks, pause between.

Everything here works on one chunk at a time, so the engine can hand each sentence over as a
finished segment: `finish_chunk` + `master` + `pause` give a segment, and joining segments
never changes a sample of them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines.analysis import SAMPLE_RATE, loudness

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

CEILING = 10 ** (-1 / 20)  # -1 dBFS: headroom for lossy encoders and resampling
MIN_LUFS, MAX_LUFS = -50.0, -10.0  # outside this a reference is broken, not a style
SENTENCE_PAUSE_S = 0.28
PHRASE_PAUSE_S = 0.12  # between two chunks of one sentence (cut at a clause or a space)
_FADE_S = 0.01
_TRIM_THRESHOLD = 10 ** (-50 / 20)
_EDGE_S = 0.03  # kept around detected speech so soft onsets and releases survive trimming


def trim(audio: F64) -> F64:
    """Cut leading and trailing silence (espeak pads each utterance), keeping a short margin."""
    loud = np.nonzero(np.abs(audio) > _TRIM_THRESHOLD)[0]
    if len(loud) == 0:
        return audio[:0]
    edge = int(_EDGE_S * SAMPLE_RATE)
    return audio[max(loud[0] - edge, 0) : loud[-1] + edge + 1]


def finish_chunk(chunk: F64) -> F64:
    """A chunk trimmed of silence, with short fades so its edges never click against a pause."""
    chunk = trim(chunk)
    fade = int(_FADE_S * SAMPLE_RATE)
    if len(chunk) > 2 * fade:
        ramp = np.linspace(0.0, 1.0, fade)
        chunk = chunk.copy()
        chunk[:fade] *= ramp
        chunk[-fade:] *= ramp[::-1]
    return chunk


def pause(pause_s: float = SENTENCE_PAUSE_S) -> F32:
    """The silence between two sentences."""
    return np.zeros(int(pause_s * SAMPLE_RATE), dtype=np.float32)


def master(audio: F64, target_lufs: float) -> F32:
    """Set integrated loudness to target_lufs (clamped to a sane range), then limit peaks.

    Limiting a loud target lowers loudness a little, so gain is re-measured once afterwards.
    """
    if len(audio) == 0 or not np.any(audio):
        return audio.astype(np.float32)
    target = min(max(target_lufs, MIN_LUFS), MAX_LUFS)
    out = audio
    for _ in range(2):
        measured = loudness(out)
        if measured <= -70.0:
            break
        out = limit(out * 10 ** ((target - measured) / 20))
    return np.clip(out, -CEILING, CEILING).astype(np.float32)


def limit(audio: F64, ceiling: float = CEILING) -> F64:
    """A look-ahead peak limiter at the engine's rate (see vocalis.worker.loudness.limit)."""
    from vocalis.worker.loudness import limit as look_ahead_limit

    return look_ahead_limit(audio, ceiling, SAMPLE_RATE)
