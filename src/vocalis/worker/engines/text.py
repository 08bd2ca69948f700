"""Text shaping shared by engines: sentence chunking and a script-based language guess.

Pure Python on purpose: the worker imports this without torch, and tests exercise it directly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from vocalis.protocol import LANGUAGES

# A chunk is a span of the original text, so joining spans back never loses a character and the
# text inside a chunk (its internal spacing, quotes, newlines) stays exactly as the user typed it.
Span = tuple[int, int]

# Latin terminators need following whitespace so "3.14", "e.g." mid-word and URLs stay whole;
# CJK terminators (and full-width ！？．) end a sentence without any space. Closing quotes and
# brackets stay with the sentence they close. A newline always ends a sentence: lines without
# punctuation (lists, verse) are still separate utterances.
_SENTENCE_END = re.compile(
    r"""[.!?…]+["'”’»)\]]*(?=\s|$)"""
    r"""|[。！？．｡]+["'”’」』）)\]]*"""
    r"""|\n"""
)
# Clause punctuation: the best place to breathe inside an over-long sentence.
_CLAUSE_END = re.compile(r"""[,;:—–]+["'”’)]*(?=\s)|[，、；：]+""")
_WHITESPACE_RUN = re.compile(r"\s+")

# Below this many characters a fragment sounds clipped on its own, so it is glued to a
# neighbour even when that pushes the chunk slightly past max_chars.
_TINY = 3


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Split `text` into chunks of at most `max_chars`, preferring sentence boundaries.

    Whole sentences are packed greedily; a sentence longer than `max_chars` is cut at clause
    punctuation, then at whitespace, then hard. Fragments with no letters or digits (a stray
    "…" or "!") and very short fragments are merged into a neighbour. Only whitespace around
    chunks is dropped: every other character of `text` appears, in order, in the result.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    spans: list[Span] = []
    for start, end in _pieces(text, 0, len(text), _SENTENCE_END):
        spans.extend(_fit(text, start, end, max_chars))
    chunks = _pack(text, spans, max_chars)
    return [text[start:end] for start, end in _merge_tiny(text, chunks, min(_TINY, max_chars))]


def ends_sentence(chunk: str) -> bool:
    """Whether `chunk` ends a sentence (rather than being cut at a clause or a space)."""
    return any(m.end() == len(chunk.rstrip()) for m in _SENTENCE_END.finditer(chunk.rstrip()))


def with_short_lead(chunks: list[str], lead_chars: int) -> list[str]:
    """`chunks` with the first one cut down to at most `lead_chars` (its first sentence or
    clause), the rest of it becoming the second chunk.

    The first chunk is what a listener waits for before any audio plays, so it should be short;
    the later ones render while the earlier ones play, so they stay long (fewer seams).
    """
    if not chunks:
        return chunks
    first = chunks[0]
    pieces = split_sentences(first, lead_chars)
    if len(pieces) < 2:
        return chunks
    rest = first[first.index(pieces[0]) + len(pieces[0]) :].strip()
    return [pieces[0], rest, *chunks[1:]]


def _pieces(text: str, start: int, end: int, boundary: re.Pattern[str]) -> list[Span]:
    """Cut text[start:end] after each boundary match; spans are stripped, empty ones dropped."""
    spans: list[Span] = []
    cursor = start
    for match in boundary.finditer(text, start, end):
        spans.extend(_strip(text, cursor, match.end()))
        cursor = match.end()
    spans.extend(_strip(text, cursor, end))
    return spans


def _strip(text: str, start: int, end: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if start < end else []


def _fit(text: str, start: int, end: int, max_chars: int) -> list[Span]:
    """Break one over-long sentence into spans of at most max_chars, gentlest cut first."""
    if end - start <= max_chars:
        return [(start, end)]
    for boundary in (_CLAUSE_END, _WHITESPACE_RUN):
        parts = _pieces(text, start, end, boundary)
        if len(parts) > 1:
            out: list[Span] = []
            for part in _pack(text, parts, max_chars):
                out.extend(_fit(text, *part, max_chars))
            return out
    # No usable boundary (a long CJK run without punctuation, or one huge token): hard cut.
    return [(i, min(i + max_chars, end)) for i in range(start, end, max_chars)]


def _pack(text: str, spans: Iterable[Span], max_chars: int) -> list[Span]:
    """Greedily join consecutive spans while the covered text stays within max_chars."""
    packed: list[Span] = []
    for start, end in spans:
        if packed and end - packed[-1][0] <= max_chars:
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed


def _merge_tiny(text: str, spans: list[Span], tiny: int) -> list[Span]:
    merged: list[Span] = []
    pending: Span | None = None  # a tiny fragment at the very start waits for its successor
    for start, end in spans:
        if pending is not None:
            start, pending = pending[0], None
        if _is_tiny(text[start:end], tiny):
            if merged:
                merged[-1] = (merged[-1][0], end)
            else:
                pending = (start, end)
            continue
        merged.append((start, end))
    if pending is not None:  # the whole text is one tiny fragment: keep it rather than lose it
        merged.append(pending)
    return merged


def _is_tiny(chunk: str, tiny: int) -> bool:
    return len(chunk) < tiny or not any(ch.isalnum() for ch in chunk)


# --- language detection ------------------------------------------------------------------------

DETECTABLE: tuple[str, ...] = tuple(name for name in LANGUAGES if name != "Auto")


def _script(ch: str) -> str | None:
    code = ord(ch)
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
        return "kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if 0x0400 <= code <= 0x04FF:
        return "cyrillic"
    if ch.isalpha() and (code < 0x80 or 0xC0 <= code <= 0x24F):
        return "latin"
    return None


# One CJK character carries roughly a word, a Latin letter a fifth of one; weighting keeps
# "我用iPhone拍的" Chinese instead of letting six Latin letters outvote four Han characters.
_SCRIPT_WEIGHT = {"hangul": 3, "kana": 3, "han": 3, "cyrillic": 1, "latin": 1}

# Accented letters that point at one language (weight 3) or a few (weight 1).
_MARKER_CHARS: dict[str, dict[str, int]] = {
    "German": {"ß": 3, "ä": 3, "ö": 3, "ü": 2},
    "Spanish": {"ñ": 3, "¿": 3, "¡": 3, "á": 1, "í": 1, "ó": 1, "ú": 1},
    "French": {"œ": 3, "ç": 1, "é": 1, "è": 1, "ê": 1, "ë": 2, "î": 2, "ï": 2, "û": 2, "â": 1},
    "Portuguese": {"ã": 3, "õ": 3, "ç": 1, "á": 1, "é": 1, "ê": 1, "ô": 1, "â": 1},
    "Italian": {"ì": 3, "ò": 2, "è": 1, "à": 1, "ù": 1},
}
# Frequent function words that are (nearly) unique to one language among those we support.
_MARKER_WORDS: dict[str, frozenset[str]] = {
    "English": frozenset(
        "the and is are of to you that this with it was for have what not".split()
    ),
    "German": frozenset("der die das und ist nicht ich ein eine mit wir auf auch sind".split()),
    "Spanish": frozenset("el los las y es está por para con muy pero del yo una".split()),
    "French": frozenset(
        "le les et est une des je vous pas nous dans avec pour sur ce c'est".split()
    ),
    "Portuguese": frozenset("não uma você os do da em com é muito isso eu".split()),
    "Italian": frozenset("il che di gli sono non della per una questo anche".split()),
}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def detect_language(text: str) -> str:
    """Guess the language of `text` (one of LANGUAGES except "Auto"); heuristic, not a model.

    The script decides first (Hangul → Korean, kana → Japanese, Han without kana → Chinese,
    Cyrillic → Russian). Latin text is English unless accented letters and function words
    clearly favour another supported language. Short or mixed text can be misjudged, which is
    why callers should prefer the language the user picked whenever it is not "Auto".
    """
    scripts: Counter[str] = Counter()
    for ch in text:
        script = _script(ch)
        if script is not None:
            scripts[script] += _SCRIPT_WEIGHT[script]
    if not scripts:
        return "English"
    cjk = scripts["han"] + scripts["kana"]
    best = max(
        ("hangul", scripts["hangul"]),
        ("cjk", cjk),
        ("cyrillic", scripts["cyrillic"]),
        ("latin", scripts["latin"]),
        key=lambda item: item[1],
    )[0]
    if best == "hangul":
        return "Korean"
    if best == "cjk":
        # Japanese writes most sentences with some kana; Chinese never uses it.
        return "Japanese" if scripts["kana"] else "Chinese"
    if best == "cyrillic":
        return "Russian"
    return _latin_language(text)


def _latin_language(text: str) -> str:
    lowered = text.lower()
    scores: Counter[str] = Counter()
    for language, markers in _MARKER_CHARS.items():
        scores[language] += sum(weight * lowered.count(ch) for ch, weight in markers.items())
    for word in _WORD.findall(lowered):
        word = word.replace("’", "'")
        for language, words in _MARKER_WORDS.items():
            if word in words:
                scores[language] += 1
    ranked = scores.most_common()
    if not ranked or ranked[0][1] <= scores["English"]:
        return "English"  # ties and no evidence fall back to English, the safest default
    return ranked[0][0]
