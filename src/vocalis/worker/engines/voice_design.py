"""Designing a voice from a description: a small deterministic keyword table, no model.

The description's words pick a base voice (man, woman or child), then modifiers multiply pitch,
formant scale, pace and intonation range and add breathiness, spectral tilt and loudness. Words
combine ("a deep, slow, breathy old man"); the first gender word wins when several appear;
negation ("not deep") is not understood. Unknown words are ignored, so any description yields a
voice, by default a neutral adult male one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from vocalis.worker.engines.analysis import AP_BANDS, VoiceProfile, frequencies
from vocalis.worker.engines.voice_match import (
    MAX_EQ_DB,
    MAX_SPREAD_RATIO,
    MAX_WARP,
    MIN_SPREAD_RATIO,
    MIN_WARP,
    VoiceTarget,
)

DEFAULT_LUFS = -20.0
HUMAN_LOG_SPREAD = 0.14  # typical robust std of ln F0 in read speech


@dataclass(frozen=True)
class Design:
    """The designed voice in absolute terms; `female` picks espeak's female variant as source."""

    female: bool = False
    f0_hz: float = 120.0
    warp: float = 1.0  # relative to the chosen espeak variant
    pace: float = 1.0
    spread: float = 1.0  # multiplies HUMAN_LOG_SPREAD
    breath_db: float = 0.0
    tilt_db_per_octave: float = 0.0
    loudness_lufs: float = DEFAULT_LUFS
    whisper: bool = False


_BASES: dict[str, Design] = {
    "male": Design(female=False, f0_hz=115.0),
    "female": Design(female=True, f0_hz=205.0, warp=1.02),
    "child": Design(female=True, f0_hz=275.0, warp=1.14, pace=0.95),
}
_GENDER_WORDS: dict[str, str] = {
    **dict.fromkeys("male man men gentleman guy masculine father grandfather".split(), "male"),
    **dict.fromkeys("female woman women lady feminine mother grandmother".split(), "female"),
    **dict.fromkeys("child kid kids boy girl childlike toddler".split(), "child"),
    **dict.fromkeys(["男", "男性", "男人"], "male"),
    **dict.fromkeys(["女", "女性", "女人"], "female"),
    **dict.fromkeys(["孩子", "儿童", "子供", "童"], "child"),
}


@dataclass(frozen=True)
class _Modifier:
    f0: float = 1.0
    warp: float = 1.0
    pace: float = 1.0
    spread: float = 1.0
    breath_db: float = 0.0
    tilt: float = 0.0
    lufs: float = 0.0
    whisper: bool = False


_MODIFIERS: dict[str, _Modifier] = {
    **dict.fromkeys(
        "young youthful teen teenage".split(), _Modifier(f0=1.06, warp=1.02, pace=1.05)
    ),
    **dict.fromkeys(
        "old older elderly aged senior grandfather grandmother".split(),
        _Modifier(f0=0.94, pace=0.85, spread=1.15, breath_db=5.0, tilt=-1.0),
    ),
    **dict.fromkeys("deep low bass baritone".split(), _Modifier(f0=0.8, warp=0.95)),
    **dict.fromkeys("high squeaky soprano shrill".split(), _Modifier(f0=1.2, warp=1.04)),
    **dict.fromkeys("slow slowly leisurely measured deliberate".split(), _Modifier(pace=0.82)),
    **dict.fromkeys("fast quick quickly rapid hurried".split(), _Modifier(pace=1.2)),
    **dict.fromkeys(
        "calm soothing gentle relaxed serene peaceful".split(),
        _Modifier(spread=0.75, pace=0.92, lufs=-2.0),
    ),
    **dict.fromkeys(
        "energetic excited enthusiastic lively cheerful happy upbeat".split(),
        _Modifier(f0=1.05, spread=1.4, pace=1.08, lufs=2.0),
    ),
    **dict.fromkeys(
        "sad melancholic melancholy tired sleepy".split(),
        _Modifier(f0=0.95, spread=0.7, pace=0.88, lufs=-3.0),
    ),
    **dict.fromkeys(
        "angry stern authoritative commanding serious".split(),
        _Modifier(spread=1.2, tilt=1.5, lufs=3.0),
    ),
    **dict.fromkeys("monotone monotonous flat robotic".split(), _Modifier(spread=0.3)),
    **dict.fromkeys("expressive dramatic animated".split(), _Modifier(spread=1.5)),
    **dict.fromkeys("whisper whispering whispered".split(), _Modifier(whisper=True, lufs=-6.0)),
    **dict.fromkeys("breathy airy".split(), _Modifier(breath_db=8.0)),
    **dict.fromkeys("husky raspy hoarse gravelly".split(), _Modifier(breath_db=6.0, tilt=-1.5)),
    **dict.fromkeys("soft quiet".split(), _Modifier(breath_db=3.0, lufs=-4.0)),
    **dict.fromkeys("loud powerful strong booming".split(), _Modifier(lufs=4.0, tilt=1.0)),
    **dict.fromkeys("bright clear crisp".split(), _Modifier(tilt=2.0)),
    **dict.fromkeys("dark warm mellow rich smooth".split(), _Modifier(tilt=-2.0)),
    "低沉": _Modifier(f0=0.8, warp=0.95),
    "老": _Modifier(f0=0.94, pace=0.85, spread=1.15, breath_db=5.0, tilt=-1.0),
    "慢": _Modifier(pace=0.82),
    "快": _Modifier(pace=1.2),
    "温柔": _Modifier(spread=0.75, pace=0.92, lufs=-2.0),
    "耳语": _Modifier(whisper=True, lufs=-6.0),
}
_CJK_KEYS = sorted((k for k in (*_GENDER_WORDS, *_MODIFIERS) if not k.isascii()), key=len)
_WORD = re.compile(r"[a-z']+")


def _terms(description: str) -> list[str]:
    """English words in order of appearance, then CJK keywords found as substrings."""
    lowered = description.lower()
    words = _WORD.findall(lowered)
    return words + [key for key in _CJK_KEYS if key in description]


def design(description: str) -> Design:
    """Turn a free-text description into a Design via the keyword tables above."""
    terms = _terms(description)
    gender = next((_GENDER_WORDS[t] for t in terms if t in _GENDER_WORDS), "male")
    result = _BASES[gender]
    for term in dict.fromkeys(terms):  # each word counts once: "very very deep" is just deep
        mod = _MODIFIERS.get(term)
        if mod is None:
            continue
        result = replace(
            result,
            f0_hz=result.f0_hz * mod.f0,
            warp=result.warp * mod.warp,
            pace=result.pace * mod.pace,
            spread=result.spread * mod.spread,
            breath_db=result.breath_db + mod.breath_db,
            tilt_db_per_octave=result.tilt_db_per_octave + mod.tilt,
            loudness_lufs=result.loudness_lufs + mod.lufs,
            whisper=result.whisper or mod.whisper,
        )
    return result


def design_target(voice: Design, source: VoiceProfile) -> VoiceTarget:
    """The matcher target for a Design, relative to espeak's calibrated `source` voice."""
    freqs = frequencies()
    octaves = np.log2(np.clip(freqs, 100.0, 8000.0) / 1000.0)
    spread = HUMAN_LOG_SPREAD * voice.spread / source.f0_log_spread
    return VoiceTarget(
        f0_median_hz=float(np.clip(voice.f0_hz, 60.0, 500.0)),
        f0_spread_ratio=float(np.clip(spread, MIN_SPREAD_RATIO, MAX_SPREAD_RATIO)),
        warp=float(np.clip(voice.warp, MIN_WARP, MAX_WARP)),
        eq_db=np.clip(voice.tilt_db_per_octave * octaves, -MAX_EQ_DB, MAX_EQ_DB),
        breathiness_db=np.full(len(AP_BANDS), voice.breath_db),
        loudness_lufs=voice.loudness_lufs,
        whisper=voice.whisper,
    )
