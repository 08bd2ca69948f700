"""Word error rate of speech, by PocketSphinx's offline English recogniser.

The `pocketsphinx` wheel (the `bench` extra) carries its US English acoustic model, dictionary
and language model, so this runs offline. It is a weak recogniser on synthetic speech (about
80 % WER on raw espeak), so its figures are for comparing two versions of the same sentences -
does voice matching cost words? - never an absolute intelligibility score.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

RATE = 16_000


class Recognizer:
    """Transcribes whole utterances; one decoder, so not thread-safe."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder  # the optional `bench` extra

        self._decoder: Any = Decoder(samprate=RATE, loglevel="FATAL")

    def transcribe(self, audio: npt.NDArray[np.floating], rate: int) -> str:
        x = np.asarray(audio, dtype=np.float64)
        if rate != RATE:
            x = resample_poly(x, RATE, rate)
        peak = float(np.abs(x).max()) if len(x) else 0.0
        pcm = (np.clip(x / max(peak, 1e-9) * 0.7, -1, 1) * 32767).astype("<i2")
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hypothesis = self._decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, words in reference): Levenshtein over words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, expected in enumerate(ref, start=1):
        previous, row[0] = row[:], i
        for j, heard in enumerate(hyp, start=1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (expected != heard))
    return row[len(hyp)], len(ref)
