"""A clone reference, decoded and analysed into what the voice matcher needs.

Only the first ANALYSED_SECONDS are analysed: a voice's pitch, colour and pace statistics
settle within a minute of speech, and Harvest costs ~0.2 s per second of audio. The transcript
covers the whole recording, so its syllable count is scaled to the analysed share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vocalis import audio as vocalis_audio
from vocalis.worker.engines.analysis import SAMPLE_RATE, VoiceProfile, profile_of, world_features
from vocalis.worker.engines.base import SynthesisError
from vocalis.worker.engines.pace import syllables
from vocalis.worker.engines.text import detect_language

ANALYSED_SECONDS = 60.0
MAX_SECONDS = 300.0  # the API accepts references up to five minutes
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ReferenceVoice:
    profile: VoiceProfile
    language: str  # of the transcript, detected
    syllables: int  # in the transcript; with profile.articulation_seconds gives the pace


def decode(path: Path) -> F32:
    """Mono float32 at SAMPLE_RATE from any format vocalis.audio reads; SynthesisError if not."""
    try:
        audio = vocalis_audio.decode(path, SAMPLE_RATE)
    except vocalis_audio.AudioError as exc:
        raise SynthesisError(f"The reference audio could not be used: {exc}") from exc
    if len(audio) < SAMPLE_RATE // 2:
        raise SynthesisError("The reference audio is too short to analyse (under half a second).")
    return np.nan_to_num(audio[: int(MAX_SECONDS * SAMPLE_RATE)])


def analyse(audio: F32, transcript: str) -> ReferenceVoice:
    """Profile a decoded reference; SynthesisError when it holds no usable voiced speech."""
    analysed = audio[: int(ANALYSED_SECONDS * SAMPLE_RATE)]
    profile = profile_of(analysed, world_features(analysed, "harvest"))
    if profile is None:
        raise SynthesisError("No speech was found in the reference audio.")
    language = detect_language(transcript) if transcript.strip() else "English"
    share = len(analysed) / len(audio)
    return ReferenceVoice(profile, language, round(syllables(transcript, language) * share))
