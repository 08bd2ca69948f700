"""What a base's own voices sound like: the *source* side of every voice-matching map.

Each base voice (espeak: language x male/female variant; Kokoro: language x voice pack) reads a
fixed passage once per process; its profile (F0, long-term envelope, breathiness, pace) is what
the matcher maps *from*. Using one fixed passage rather than each output chunk's own statistics
keeps the timbre and pace steady from sentence to sentence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines import espeak
from vocalis.worker.engines.analysis import Tracker, VoiceProfile, profile_of, world_features
from vocalis.worker.engines.pace import syllables

# Everyday phonetically varied sentences, about eight seconds each at espeak's default rate.
PASSAGES: dict[str, str] = {
    "English": (
        "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
        "The quick brown fox jumps over the lazy dog, and then we all went home for dinner."
    ),
    "Chinese": (
        "北风跟太阳在那儿争论谁的本事大。争来争去，就是分不出高低来。"
        "这时候路上来了个走道儿的，他身上穿着件厚大衣。"
    ),
    "Japanese": (
        "北風と太陽が、どちらが強いかで言い争っていました。"
        "そこへ、厚い外套を着た旅人がやって来ました。"
    ),
    "Korean": (
        "북풍과 햇님이 서로 힘이 더 세다고 다투고 있었습니다. "
        "그때 마침 두꺼운 외투를 입은 나그네가 길을 걸어가고 있었습니다."
    ),
    "German": (
        "Einst stritten sich Nordwind und Sonne, wer von ihnen beiden wohl der Stärkere wäre, "
        "als ein Wanderer, der in einen warmen Mantel gehüllt war, des Weges daherkam."
    ),
    "French": (
        "La bise et le soleil se disputaient, chacun assurant qu'il était le plus fort, quand "
        "ils ont vu un voyageur qui s'avançait, enveloppé dans son manteau."
    ),
    "Russian": (
        "Северный ветер и солнце спорили, кто из них сильнее. В это время они увидели "
        "путника, который шёл по дороге, закутанный в тёплый плащ."
    ),
    "Portuguese": (
        "O vento norte e o sol discutiam qual dos dois era o mais forte, quando passou um "
        "viajante envolto numa capa grossa. Todos ficaram olhando para ele."
    ),
    "Spanish": (
        "El viento del norte y el sol discutían sobre cuál de ellos era el más fuerte, cuando "
        "acertó a pasar un viajero envuelto en una gruesa capa."
    ),
    "Italian": (
        "Si bisticciavano un giorno il vento di tramontana e il sole, l'uno pretendendo "
        "d'esser più forte dell'altro, quando videro un viaggiatore che veniva innanzi, "
        "avvolto nel mantello."
    ),
}


@dataclass(frozen=True)
class Calibration:
    profile: VoiceProfile
    syllables: int  # in the passage, as pace.syllables counts them


def measure(
    audio: npt.NDArray[np.floating], language: str, who: str, tracker: Tracker = "nccf"
) -> Calibration:
    """The calibration of `audio` (at analysis.SAMPLE_RATE): a base reading PASSAGES[language]."""
    profile = profile_of(audio, world_features(audio, tracker))
    if profile is None:
        raise RuntimeError(f"{who} produced no voiced speech for {language}")
    return Calibration(profile, syllables(PASSAGES[language], language))


@functools.cache
def calibration(language: str, female: bool) -> Calibration:
    """The profile of espeak's `language` voice (default rate and pitch) reading its passage."""
    audio = espeak.speak(PASSAGES[language], espeak.Voice(language, female=female))
    return measure(audio, language, "espeak")
