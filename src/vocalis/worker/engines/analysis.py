"""WORLD analysis and the voice profile: the statistics the voice matcher maps between.

Everything runs at the local engine's rate (22 050 Hz) with a 5 ms frame period, so envelopes of
a reference and of espeak's output share one frequency grid (FFT_SIZE // 2 + 1 bins) and can be
compared bin by bin. A reference is analysed with Harvest (robust on real, noisy speech; cached
per voice, so its cost is paid once); a base's output with the fast tracker that base needs
(Tracker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pyworld
from scipy.signal import welch

from vocalis.worker.engines.pitch import track_f0

F64 = npt.NDArray[np.float64]
# Which F0 tracker a signal needs (each ~0.01-0.02x real time on one core but Harvest, ~0.17x):
# - "nccf" (pitch.py) for espeak: DIO marks a third of some espeak voices unvoiced;
# - "dio" for Kokoro: on its natural speech the NCCF tracker fell an octave for whole syllables
#   (15% of voiced frames on one sentence, against Harvest; DIO 0-3%);
# - "harvest" for real recordings, whose analysis runs once per voice.
Tracker = Literal["nccf", "dio", "harvest"]

SAMPLE_RATE = 22_050
FRAME_PERIOD_MS = 5.0
FFT_SIZE = 1024  # CheapTrick's size for 22 050 Hz and its default 71 Hz floor
BINS = FFT_SIZE // 2 + 1
F0_FLOOR = 50.0
F0_CEIL = 700.0
# Aperiodicity is summarised in these bands (Hz): breathiness lives mostly below 4 kHz, and the
# top band captures how noisy the "air" region is.
AP_BANDS: tuple[tuple[float, float], ...] = ((0, 1000), (1000, 2000), (2000, 4000), (4000, 8000))
# The codebook of voiced frames kept for frame matching (frame_match.py): level-free mel-band
# spectra, at most CODEBOOK_FRAMES of them (10 s of voicing) spread over the whole recording.
CODEBOOK_BANDS = 40
CODEBOOK_LOW_HZ = 60.0
CODEBOOK_FRAMES = 2000
# Gaps in voicing shorter than this are consonants inside speech, not pauses.
_ARTICULATION_GAP_S = 0.15
_EPS = 1e-12


@dataclass
class Features:
    """WORLD parameters of one signal: F0 (Hz, 0 = unvoiced), envelope and aperiodicity."""

    f0: F64
    envelope: F64  # (frames, BINS) power spectrum
    aperiodicity: F64  # (frames, BINS) in [0, 1]

    @property
    def voiced(self) -> npt.NDArray[np.bool_]:
        return self.f0 > 0


@dataclass
class VoiceProfile:
    """What makes a voice sound like itself, as far as a vocoder can move it."""

    f0_median_hz: float  # of voiced frames
    f0_log_spread: float  # robust std of ln F0 (IQR / 1.349)
    envelope_db: F64  # (BINS,) mean log envelope of voiced frames, dB
    envelope_std_db: F64  # (BINS,) its standard deviation over voiced frames, dB
    aperiodicity_db: F64  # (len(AP_BANDS),) mean aperiodicity of voiced frames per band, dB
    bandwidth_hz: float  # above this the recording holds (almost) nothing
    loudness_lufs: float  # integrated (BS.1770) loudness
    articulation_seconds: float  # voiced time with short gaps bridged: "time spent talking"
    frames_db: F64  # (<= CODEBOOK_FRAMES, CODEBOOK_BANDS): `codebook` of voiced frames

    def to_arrays(self) -> dict[str, F64]:
        return {
            "scalars": np.array(
                [
                    self.f0_median_hz,
                    self.f0_log_spread,
                    self.bandwidth_hz,
                    self.loudness_lufs,
                    self.articulation_seconds,
                ]
            ),
            "envelope_db": self.envelope_db,
            "envelope_std_db": self.envelope_std_db,
            "aperiodicity_db": self.aperiodicity_db,
            "frames_db": self.frames_db.astype(np.float32),  # halves the cache file
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, F64]) -> VoiceProfile:
        f0, spread, bandwidth, loudness, seconds = (float(v) for v in arrays["scalars"])
        return cls(
            f0, spread, arrays["envelope_db"], arrays["envelope_std_db"],
            arrays["aperiodicity_db"], bandwidth, loudness, seconds,
            arrays["frames_db"].astype(np.float64),
        )  # fmt: skip


def frequencies() -> F64:
    return np.arange(BINS, dtype=np.float64) * (SAMPLE_RATE / FFT_SIZE)


def mel_bands(count: int, low_hz: float, top_hz: float) -> tuple[F64, F64]:
    """Triangular mel bands from low_hz to top_hz on the bin grid: (weights, centres in Hz).

    Each row of weights (count, BINS) sums to one, so `weights @ curve` averages a curve per band.
    """
    freqs = frequencies()
    top = min(top_hz, freqs[-1])
    edges = _hz(np.linspace(_mel(low_hz), _mel(top), count + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    weights = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9), edges[1:-1]


def _mel(hz: float | F64) -> F64:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _hz(mel: float | F64) -> F64:
    return 700.0 * (10 ** (np.asarray(mel) / 2595.0) - 1.0)


def world_features(audio: npt.NDArray[np.floating], tracker: Tracker = "nccf") -> Features:
    """WORLD analysis at SAMPLE_RATE, F0 from `tracker` (see Tracker)."""
    x = np.ascontiguousarray(audio, dtype=np.float64)
    if tracker == "harvest":
        f0, times = pyworld.harvest(
            x, SAMPLE_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS
        )
    else:
        if tracker == "dio":
            f0, times = pyworld.dio(
                x, SAMPLE_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS
            )
        else:
            f0 = track_f0(x, SAMPLE_RATE, FRAME_PERIOD_MS, F0_FLOOR, F0_CEIL)
            times = np.arange(len(f0)) * (FRAME_PERIOD_MS / 1000)
        f0 = pyworld.stonemask(x, f0, times, SAMPLE_RATE)
    envelope = pyworld.cheaptrick(x, f0, times, SAMPLE_RATE, fft_size=FFT_SIZE)
    aperiodicity = pyworld.d4c(x, f0, times, SAMPLE_RATE, fft_size=FFT_SIZE)
    return Features(f0, envelope, aperiodicity)


def profile_of(audio: npt.NDArray[np.floating], features: Features) -> VoiceProfile | None:
    """Summarise a recording; None when it holds too little voiced speech to say anything."""
    voiced = features.voiced
    if voiced.sum() < 20:  # 100 ms
        return None
    log_f0 = np.log(features.f0[voiced])
    q1, median, q3 = np.percentile(log_f0, [25, 50, 75])
    envelope_db = 10 * np.log10(features.envelope[voiced] + _EPS)
    top_hz = bandwidth(audio)
    return VoiceProfile(
        f0_median_hz=float(np.exp(median)),
        f0_log_spread=float(max((q3 - q1) / 1.349, 1e-3)),
        envelope_db=envelope_db.mean(axis=0),
        envelope_std_db=envelope_db.std(axis=0),
        aperiodicity_db=band_means(20 * np.log10(features.aperiodicity[voiced] + 1e-6)),
        bandwidth_hz=top_hz,
        loudness_lufs=loudness(audio),
        articulation_seconds=articulation_seconds(voiced),
        frames_db=codebook(envelope_db, top_hz),
    )


def codebook(envelope_db: F64, top_hz: float) -> F64:
    """Level-free mel-band spectra (frames, CODEBOOK_BANDS) of up to CODEBOOK_FRAMES of
    `envelope_db` (voiced frames, dB per bin), evenly spaced in time."""
    if len(envelope_db) > CODEBOOK_FRAMES:
        picks = np.linspace(0, len(envelope_db) - 1, CODEBOOK_FRAMES).astype(int)
        envelope_db = envelope_db[picks]
    weights, _ = mel_bands(CODEBOOK_BANDS, CODEBOOK_LOW_HZ, top_hz)
    bands = envelope_db @ weights.T
    return bands - bands.mean(axis=1, keepdims=True)


def band_means(per_bin: F64) -> F64:
    """Mean over frames and over the bins of each AP_BANDS band."""
    freqs = frequencies()
    mean = per_bin.mean(axis=0)
    return np.array([mean[(freqs >= lo) & (freqs < hi)].mean() for lo, hi in AP_BANDS])


def loudness(audio: npt.NDArray[np.floating]) -> float:
    """Integrated loudness in LUFS; -70 (the BS.1770 gate) for silence or very short audio."""
    x = np.asarray(audio, dtype=np.float64)
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    if len(x) < int(0.4 * SAMPLE_RATE):  # shorter than one gating block
        x = np.concatenate([x, np.zeros(int(0.4 * SAMPLE_RATE) - len(x) + 1)])
    value = float(meter.integrated_loudness(x))
    return value if np.isfinite(value) else -70.0


def bandwidth(audio: npt.NDArray[np.floating]) -> float:
    """The highest frequency still within 50 dB of the speech band's level.

    A recording made at 8 or 16 kHz, or through an MP3 low-pass, has an empty top; the spectral
    EQ must not try to fill that emptiness (it would boost noise by tens of dB).
    """
    x = np.asarray(audio, dtype=np.float64)
    if len(x) < FFT_SIZE:
        return SAMPLE_RATE / 2
    freqs, psd = welch(x, SAMPLE_RATE, nperseg=FFT_SIZE)
    level = 10 * np.log10(psd + _EPS)
    speech = level[(freqs >= 300) & (freqs <= 3000)].max()
    alive = np.nonzero(level > speech - 50)[0]
    return float(max(freqs[alive[-1]], 3000.0)) if len(alive) else SAMPLE_RATE / 2


def articulation_seconds(voiced: npt.NDArray[np.bool_]) -> float:
    """Voiced time with consonant-sized gaps bridged, so pauses between phrases don't count."""
    frames = np.nonzero(voiced)[0]
    if len(frames) == 0:
        return 0.0
    gaps = np.diff(frames) - 1
    max_gap = _ARTICULATION_GAP_S * 1000 / FRAME_PERIOD_MS
    bridged = gaps[gaps <= max_gap].sum()
    return float((len(frames) + bridged) * FRAME_PERIOD_MS / 1000)
