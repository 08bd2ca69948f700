"""The synthesisers under the voice matcher ("bases"): `espeak` and `kokoro`.

A base speaks text in one of its own voices; the matcher (voice_match.py) then moves that voice
toward the target voice. Each base brings its own calibration - what each of its voices sounds
like reading a fixed passage (calibration.py) - which is the matcher's source side, so the
matcher itself does not care which base spoke.

- `espeak`: espeak-ng's formant synthesis, male or female variant. Every language, tiny and
  fast, robotic.
- `kokoro`: Kokoro-82M, a neural synthesiser (kokoro_base.py). Natural speech, in the languages
  of kokoro_phonemes.COVERED; its stock voices are Japanese speakers, so alone it has an accent
  that the matcher and style fitting only partly move.

Which base speaks a job: the job's `base` option when it names one that speaks the language,
else the engine's defaults (DEFAULT_BASES, chosen by measurement: docs/engines.md; an operator
may replace them with the `default_bases` engine option), else `espeak`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines import espeak
from vocalis.worker.engines.analysis import Tracker
from vocalis.worker.engines.calibration import Calibration, calibration

F32 = npt.NDArray[np.float32]

BASE_NAMES: tuple[str, ...] = ("espeak", "kokoro")
# The base a job gets when it names none, per output language (bench/quality.py; the table and
# the decision are in docs/engines.md). Languages not listed get espeak: Kokoro's other languages
# were not measured.
DEFAULT_BASES: dict[str, str] = {"English": "kokoro"}


@dataclass(frozen=True, eq=False)
class BaseVoice:
    """One of a base's voices. espeak reads only `female`; Kokoro speaks `style` when given (a
    fitted style), else its stock `pack`, and always calibrates with `pack`."""

    female: bool
    pack: str | None = None
    style: F32 | None = None  # (kokoro_model.MAX_TOKENS, STYLE_DIM)


class Speaker(Protocol):
    def speak(self, text: str) -> F32:
        """`text` (one chunk) as mono float32 at analysis.SAMPLE_RATE."""


class Base(Protocol):
    name: str
    languages: frozenset[str]
    f0_tracker: Tracker  # how the matcher tracks this base's pitch (analysis.Tracker)
    # The share of the engine's first-chunk length this base speaks before any audio is heard:
    # a base slower per second of speech gets a shorter first chunk (local.LATIN_LEAD_CHARS).
    lead_share: float

    def stock_voice(self, f0_hz: float, female: bool) -> BaseVoice:
        """The base's own voice nearest to a voice of median pitch `f0_hz`."""

    def calibration(self, language: str, voice: BaseVoice) -> Calibration:
        """`voice` reading the calibration passage of `language` at its own pace."""

    def speaker(self, language: str, voice: BaseVoice, pace: float) -> Speaker:
        """`voice` speaking `language`, `pace` times faster than its calibration."""


def choose_base(
    requested: str | None,
    language: str,
    available: frozenset[str],
    defaults: Mapping[str, str] = DEFAULT_BASES,
) -> str:
    """The base that speaks `language`: the requested one if it can, else the default."""
    for name in (requested, defaults.get(language)):
        if isinstance(name, str) and name in available and language in _languages(name):
            return name
    return "espeak"


def checked_defaults(defaults: Mapping[str, str]) -> dict[str, str]:
    """`defaults` (language -> base) if every entry names a base that speaks its language."""
    for language, name in defaults.items():
        if language not in _languages(name):
            spoken = ", ".join(sorted(_languages(name))) or "none"
            raise ValueError(
                f"default_bases: {name!r} cannot be the default for {language!r} (bases: "
                f"{', '.join(BASE_NAMES)}; {name!r} speaks: {spoken})"
            )
    return dict(defaults)


def _languages(name: str | None) -> frozenset[str]:
    if name == "kokoro":
        from vocalis.worker.engines.kokoro_phonemes import COVERED

        return COVERED
    return frozenset(espeak.VOICES) if name == "espeak" else frozenset()


@dataclass(frozen=True)
class _EspeakSpeaker:
    voice: espeak.Voice

    def speak(self, text: str) -> F32:
        return espeak.speak(text, self.voice)


class EspeakBase:
    """espeak-ng's own voices: its male and female variant of each language."""

    name = "espeak"
    languages: frozenset[str] = frozenset(espeak.VOICES)
    f0_tracker: Tracker = "nccf"
    lead_share = 1.0

    def stock_voice(self, f0_hz: float, female: bool) -> BaseVoice:
        return BaseVoice(female=female)

    def calibration(self, language: str, voice: BaseVoice) -> Calibration:
        return calibration(language, voice.female)

    def speaker(self, language: str, voice: BaseVoice, pace: float) -> Speaker:
        rate = round(espeak.DEFAULT_RATE_WPM * pace)
        rate = min(max(rate, espeak.MIN_RATE_WPM), espeak.MAX_RATE_WPM)
        return _EspeakSpeaker(espeak.Voice(language, female=voice.female, rate_wpm=rate))
