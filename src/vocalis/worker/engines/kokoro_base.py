"""The `kokoro` base: Kokoro-82M speaking espeak-ng's phonemes in one of its styles.

A voice is a style: one of the stock packs, or a style fitted to a reference (style_fit.py).
Output is Kokoro's 24 kHz resampled to the matcher's 22 050 Hz: WORLD analysis, the reference
codebooks and every calibration share that grid, and what is lost above 11 kHz is little for
speech that ends in a voice match and loudness normalisation anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

from vocalis.worker.engines.analysis import SAMPLE_RATE, Tracker, VoiceProfile
from vocalis.worker.engines.bases import BaseVoice, Speaker
from vocalis.worker.engines.calibration import PASSAGES, Calibration, measure
from vocalis.worker.engines.kokoro_model import MAX_TOKENS, KokoroModel, shared_model
from vocalis.worker.engines.kokoro_model import SAMPLE_RATE as KOKORO_RATE
from vocalis.worker.engines.kokoro_phonemes import COVERED, phonemize
from vocalis.worker.engines.profile_cache import ArrayCache, Arrays

F32 = npt.NDArray[np.float32]

# Median F0 (Hz) of each stock pack reading the English calibration passage, and its gender:
# measured once (tests/worker/engines/test_kokoro.py re-measures them), used to pick the pack
# nearest to a voice without rendering anything.
PACKS: dict[str, tuple[float, bool]] = {
    "jf_alpha": (257.4, True),
    "jf_gongitsune": (219.7, True),
    "jf_nezumi": (243.4, True),
    "jf_tebukuro": (315.3, True),
    "jm_kumo": (93.1, False),
}
MIN_SPEED, MAX_SPEED = 0.5, 2.0
_RESAMPLE = (147, 160)  # 22 050 / 24 000
CALIBRATION_VERSION = 4  # in the cache file name: bump when a calibration changes (4: int8 convs)


def to_analysis_rate(audio: F32) -> F32:
    return resample_poly(audio, *_RESAMPLE).astype(np.float32)


def split_tokens(tokens: list[int], space: int, limit: int = MAX_TOKENS) -> list[list[int]]:
    """Pieces of at most `limit` tokens, cut after a space where one is near the limit."""
    pieces: list[list[int]] = []
    while len(tokens) > limit:
        window = tokens[:limit]
        cut = max((i + 1 for i, t in enumerate(window) if t == space), default=limit)
        pieces.append(tokens[:cut])
        tokens = tokens[cut:]
    if tokens:
        pieces.append(tokens)
    return pieces


@dataclass(frozen=True)
class _KokoroSpeaker:
    model: KokoroModel
    language: str
    style: F32
    speed: float

    def speak(self, text: str) -> F32:
        tokens = self.model.tokens(phonemize(text, self.language))
        rendered = [
            self.model.render(piece, self.style, self.speed)
            for piece in split_tokens(tokens, self.model.vocab[" "])
        ]
        audio = np.concatenate(rendered) if rendered else np.zeros(0, np.float32)
        return to_analysis_rate(audio)


class KokoroBase:
    """Kokoro-82M; the model loads (and is verified) on the first call that needs it."""

    name = "kokoro"
    languages: frozenset[str] = COVERED
    f0_tracker: Tracker = "dio"
    # ~0.4 CPU-s per second of what it renders on one core (espeak: ~0.05), and every render
    # carries ~0.9 s of silence (lead-in and tail): a first chunk of a few words (24 Latin
    # characters) keeps the first audio near a second (bench/first_audio.py); the rest of the
    # sentence follows it after a phrase-length pause.
    lead_share = 0.3

    def __init__(self, threads: int = 1, cache_dir: Path | None = None) -> None:
        """`cache_dir` keeps calibrations across processes: each costs a render of the passage
        and its WORLD analysis (~10 CPU-s), once per language and pack."""
        self.threads = threads
        self.calibrations: ArrayCache[Calibration] = ArrayCache(
            _encode_calibration, _decode_calibration, ".calibration.npz", 64, cache_dir
        )

    @property
    def model(self) -> KokoroModel:
        return shared_model(self.threads)

    def stock_voice(self, f0_hz: float, female: bool) -> BaseVoice:
        same = {name: hz for name, (hz, is_female) in PACKS.items() if is_female == female}
        pack = min(same, key=lambda name: abs(np.log(same[name] / f0_hz)))
        return BaseVoice(female=female, pack=pack)

    def calibration(self, language: str, voice: BaseVoice) -> Calibration:
        pack = voice.pack or self.stock_voice(200.0, voice.female).pack
        assert pack is not None
        speaker = self.speaker(language, BaseVoice(voice.female, pack), 1.0)
        return self.calibrations.get_or_create(
            f"kokoro-v{CALIBRATION_VERSION}-{pack}-{language}",
            lambda: measure(
                speaker.speak(PASSAGES[language]), language, f"Kokoro ({pack})", self.f0_tracker
            ),
        )

    def speaker(self, language: str, voice: BaseVoice, pace: float) -> Speaker:
        model = self.model
        style = voice.style if voice.style is not None else model.packs[voice.pack or "jf_alpha"]
        speed = float(min(max(pace, MIN_SPEED), MAX_SPEED))
        return _KokoroSpeaker(model, language, style, speed)


def _encode_calibration(calibration: Calibration) -> Arrays:
    return {"syllables": np.array(calibration.syllables), **calibration.profile.to_arrays()}


def _decode_calibration(arrays: Arrays) -> Calibration:
    return Calibration(VoiceProfile.from_arrays(arrays), int(arrays["syllables"]))


__all__ = ["KOKORO_RATE", "SAMPLE_RATE", "KokoroBase", "PACKS", "split_tokens"]
