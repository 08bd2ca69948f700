"""Word errors are counted as a word-level Levenshtein distance over normalised words, and the
recogniser (Whisper base, offline) hears synthetic speech."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.intelligibility import Recognizer, word_errors

from vocalis.worker.engines import espeak


def test_word_errors_count_substitutions_deletions_and_insertions() -> None:
    assert word_errors("The cat sat.", "the cat sat") == (0, 3)
    assert word_errors("The cat sat.", "the bat sat") == (1, 3)
    assert word_errors("The cat sat.", "the sat") == (1, 3)
    assert word_errors("The cat sat.", "oh the cat sat down") == (2, 3)
    assert word_errors("Don't stop", "") == (2, 2)


def test_small_numbers_count_as_their_words() -> None:
    assert word_errors("The studio opens at nine.", "The studio opens at 9.") == (0, 5)
    assert word_errors("It’s twelve", "it's 12") == (0, 2)


def test_british_spellings_match_whispers_american_ones() -> None:
    assert word_errors("across the quiet harbour", "across the quiet harbor") == (0, 4)
    assert word_errors("across the quiet harbour", "across the quiet hub") == (1, 4)


@pytest.mark.slow
def test_the_recognizer_hears_espeak_count(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    text = "one two three four five six seven"
    audio = espeak.speak(text, espeak.Voice("English"))
    errors, count = word_errors(text, Recognizer(tmp_path).transcribe(audio, espeak.SAMPLE_RATE))
    assert errors <= 1
