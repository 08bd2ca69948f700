"""Real speech for worker tests, made offline: espeak-ng (the local engine's synthesiser, from
its wheel) reads a known sentence, so a recogniser has words to find and a known transcript."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vocalis.audio import write_wav
from vocalis.worker.engines import espeak

ENGLISH = "The quick brown fox jumps over the lazy dog."
GERMAN = "Guten Morgen, wie geht es Ihnen heute? Ich hoffe, das Wetter in Berlin ist schön."


def spoken(text: str, language: str = "English") -> np.ndarray:
    """float32 speech at espeak.SAMPLE_RATE."""
    return espeak.speak(text, espeak.Voice(language))


def speech_wav(path: Path, text: str = ENGLISH, language: str = "English") -> Path:
    write_wav(path, spoken(text, language), espeak.SAMPLE_RATE)
    return path


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    cleaned = "".join(ch.lower() if ch.isalnum() or ch.isspace() else " " for ch in text)
    return cleaned.split()
