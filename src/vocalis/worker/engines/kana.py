"""Japanese text as kana, because espeak-ng's `ja` voice only reads kana.

Given kanji, espeak spells each one out in English ("Chinese letter"), which is worse than
useless. So kanji words are replaced by their pronunciation from janome's bundled IPADIC
dictionary (pure Python, Apache-2.0; the dictionary is BSD-style). The *pronunciation* field is
used rather than the reading, so the topic particle は is spoken "wa" and long vowels come out
as ー (東京 → トーキョー), which espeak renders well.

Without janome installed, kanji are dropped (and a warning logged once): kana and punctuation
still carry most of the rhythm, and silence beats a spelled-out "Chinese letter" per character.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")


@functools.cache
def _tokenizer() -> Any:
    try:
        from janome.tokenizer import Tokenizer
    except ImportError:
        log.warning("janome is not installed: kanji in Japanese text will be skipped")
        return None
    return Tokenizer()


def to_kana(text: str) -> str:
    """Replace Japanese words in `text` by their katakana pronunciation; other text unchanged.

    Kana words are replaced too (not only kanji) so particles are pronounced as spoken: は as
    "wa", へ as "e".
    """
    if not _JAPANESE.search(text):
        return text
    tokenizer = _tokenizer()
    if tokenizer is None:
        return _KANJI.sub("", text)
    out: list[str] = []
    for token in tokenizer.tokenize(text):
        surface, phonetic = token.surface, token.phonetic
        if _JAPANESE.search(surface) and phonetic and phonetic != "*":
            out.append(phonetic)
        else:
            # Latin, digits and punctuation read fine as they are; an unknown kanji word is
            # skipped, as without janome.
            out.append(_KANJI.sub("", surface))
    return "".join(out)
