"""Word error rate of speech, by OpenAI Whisper base (offline; vocalis.worker.transcription).

Whisper base is assembled from two data-only wheels (the `transcription` extra, part of `bench`)
and runs on the CPU with faster-whisper. Unlike PocketSphinx, which this replaced, it hears real
human speech and natural synthetic speech almost perfectly, so its error rate is a fair
intelligibility figure: words lost are lost to the synthesiser, not to the recogniser.
"""

from __future__ import annotations

import re
from math import gcd
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

RATE = 16_000
# Whisper writes small numbers as digits; the sentences spell them.
_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
# Whisper writes American spellings ("harbor" for the sentence's "harbour"): both sides are
# folded to them, as Whisper's own English normaliser does (with a far longer table).
_AMERICAN = {
    "harbour": "harbor",
    "colour": "color",
    "favourite": "favorite",
    "neighbour": "neighbor",
    "centre": "center",
    "theatre": "theater",
    "grey": "gray",
    "realise": "realize",
    "organise": "organize",
}


class Recognizer:
    """Transcribes whole utterances in English; one model, so not thread-safe."""

    def __init__(self, cache_dir: Path) -> None:
        from vocalis.worker.transcription.whisper import Transcriber

        self._transcriber = Transcriber.from_cache(cache_dir / "whisper", threads=1)

    def transcribe(self, audio: npt.NDArray[np.floating], rate: int) -> str:
        x = np.asarray(audio, dtype=np.float64)
        if rate != RATE:
            step = gcd(RATE, rate)
            x = resample_poly(x, RATE // step, rate // step)
        return self._transcriber.transcribe(x.astype(np.float32), language="English").text


def words(text: str) -> list[str]:
    tokens = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("’", "'")).split()
    numbers = [_NUMBERS[int(t)] if t.isdigit() and int(t) < len(_NUMBERS) else t for t in tokens]
    return [_AMERICAN.get(t, t) for t in numbers]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, words in reference): Levenshtein over words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, expected in enumerate(ref, start=1):
        previous, row[0] = row[:], i
        for j, heard in enumerate(hyp, start=1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (expected != heard))
    return row[len(hyp)], len(ref)
