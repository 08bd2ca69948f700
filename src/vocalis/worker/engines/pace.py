"""Speaking pace: syllables in a transcript per second of articulation.

Pace is compared between a reference speaker and espeak speaking that speaker's own language,
and the resulting *ratio* sets espeak's rate in whatever language the output is in: a speaker
who talks 20% faster than espeak in English is made 20% faster than espeak in French too.
Syllables are approximated by vowel groups for alphabetic scripts and by characters (morae for
Japanese, via its kana reading) for CJK: crude, but the same count is used on both sides.
"""

from __future__ import annotations

import re

from vocalis.worker.engines.kana import to_kana

# A slip of the transcript (or of the analysis) must not produce a chipmunk or a drone.
MIN_RATIO = 0.7
MAX_RATIO = 1.45

_VOWEL_GROUP = re.compile(r"[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюя]+", re.IGNORECASE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
# Small kana (ゃ, ュ, ...) join the previous mora; ー lengthens a vowel, which is a mora.
_MORA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc](?<![ぁぃぅぇぉゃゅょゎァィゥェォャュョヮ])")


def syllables(text: str, language: str) -> int:
    """Approximate syllable (or mora) count of `text` in `language`."""
    if language == "Japanese":
        return len(_MORA.findall(to_kana(text)))
    if language == "Chinese":
        return len(_HAN.findall(text))
    if language == "Korean":
        return len(_HANGUL.findall(text))
    return len(_VOWEL_GROUP.findall(text))


def pace_ratio(
    reference_syllables: int,
    reference_seconds: float,
    espeak_syllables: int,
    espeak_seconds: float,
) -> float:
    """How much faster than espeak the reference speaks, clamped; 1.0 when unknown."""
    if (
        min(reference_syllables, espeak_syllables) <= 0
        or min(reference_seconds, espeak_seconds) <= 0
    ):
        return 1.0
    ratio = (reference_syllables / reference_seconds) / (espeak_syllables / espeak_seconds)
    return float(min(max(ratio, MIN_RATIO), MAX_RATIO))
