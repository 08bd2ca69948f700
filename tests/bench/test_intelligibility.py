"""Word errors are counted as a word-level Levenshtein distance over normalised words."""

from __future__ import annotations

import pytest
from bench.intelligibility import Recognizer, word_errors

from vocalis.worker.engines import espeak


def test_word_errors_count_substitutions_deletions_and_insertions() -> None:
    assert word_errors("The cat sat.", "the cat sat") == (0, 3)
    assert word_errors("The cat sat.", "the bat sat") == (1, 3)
    assert word_errors("The cat sat.", "the sat") == (1, 3)
    assert word_errors("The cat sat.", "oh the cat sat down") == (2, 3)
    assert word_errors("Don't stop", "") == (2, 2)


def test_the_recognizer_hears_espeak_count() -> None:
    pytest.importorskip("pocketsphinx")
    text = "one two three four five six seven"
    audio = espeak.speak(text, espeak.Voice("English"))
    errors, count = word_errors(text, Recognizer().transcribe(audio, espeak.SAMPLE_RATE))
    assert errors <= count // 2  # a weak recogniser, but it does hear words
