"""Consistent output loudness: every engine's segments brought to one integrated loudness.

A reference recorded at -34 LUFS used to give speech 17 dB quieter than every other voice. Now
each segment is measured (BS.1770 integrated loudness, pyloudnorm) and gained to the target:
`output_lufs` (default -16 LUFS, the usual level for spoken word online), or with the job
option `loudness: "reference"` the reference's own level. Then the true peak (4x oversampled)
is held at or below -1 dBTP by a look-ahead limiter, with a final trim if the oversampled peak
still pokes through.

Per segment, because segments are final once handed over (the result is their concatenation).
So a sentence's level cannot depend on a later one, and neighbouring gains differ a little: the
gain glides from the previous segment's to this one's over the first 20 ms, which keeps a step
from clicking and is still decided segment by segment, deterministically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

DEFAULT_LUFS = -16.0
TRUE_PEAK_DBTP = -1.0
MIN_LUFS, MAX_LUFS = -40.0, -8.0  # accepted targets; a reference's level is clamped to them
MAX_GAIN_DB = 40.0  # a segment this far below target is noise or near-silence, not a voice
_SILENT_LUFS = -70.0  # BS.1770's absolute gate
_GLIDE_S = 0.02
_LIMITER_WINDOW_S = 0.005
_OVERSAMPLE = 4

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def integrated_loudness(audio: npt.ArrayLike, sample_rate: int) -> float:
    """Integrated loudness in LUFS; -70 for silence. Audio shorter than one 400 ms gating
    block is measured padded with silence (quieter than it sounds, never louder)."""
    import pyloudnorm

    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    block = int(0.4 * sample_rate) + 1
    if len(x) < block:
        x = np.concatenate([x, np.zeros(block - len(x))])
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(x))
    return value if np.isfinite(value) and value > _SILENT_LUFS else _SILENT_LUFS


def true_peak(audio: npt.ArrayLike) -> float:
    """The peak of the signal between samples too (4x oversampled), as a linear amplitude."""
    from scipy.signal import resample_poly

    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return 0.0
    return float(max(np.abs(x).max(), np.abs(resample_poly(x, _OVERSAMPLE, 1)).max()))


def limit(audio: F64, ceiling: float, sample_rate: int) -> F64:
    """A look-ahead peak limiter: gain dips smoothly around each peak so none exceeds ceiling."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    peak = np.abs(audio)
    if peak.size == 0 or peak.max() <= ceiling:
        return audio
    needed = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    width = max(int(_LIMITER_WINDOW_S * sample_rate), 1)
    # The minimum over +-width, averaged over width, never exceeds `needed` at any sample.
    gain = uniform_filter1d(minimum_filter1d(needed, 2 * width + 1), width)
    return audio * gain


def reference_lufs(path: Path) -> float:
    """A reference recording's loudness, clamped to the accepted targets."""
    from vocalis.audio import decode

    rate = 16_000
    measured = integrated_loudness(decode(path, rate), rate)
    return DEFAULT_LUFS if measured <= _SILENT_LUFS else clamp_target(measured)


def clamp_target(lufs: float) -> float:
    return min(max(lufs, MIN_LUFS), MAX_LUFS)


class Leveler:
    """Levels one job's segments, in order, to `target_lufs`."""

    def __init__(self, sample_rate: int, target_lufs: float = DEFAULT_LUFS) -> None:
        self.sample_rate = sample_rate
        self.target = clamp_target(target_lufs)
        self._gain: float | None = None  # the previous segment's, for the glide

    def __call__(self, segment: npt.ArrayLike) -> F32:
        x = np.asarray(segment, dtype=np.float64).reshape(-1)
        if x.size == 0:
            return x.astype(np.float32)
        measured = integrated_loudness(x, self.sample_rate)
        if measured <= _SILENT_LUFS:
            gain = self._gain if self._gain is not None else 1.0  # a silent segment: no opinion
        else:
            gain = 10 ** (min(self.target - measured, MAX_GAIN_DB) / 20)
        start = gain if self._gain is None else self._gain
        envelope = np.full(x.size, gain)
        glide = min(x.size, int(_GLIDE_S * self.sample_rate))
        if glide and start != gain:
            envelope[:glide] = np.linspace(start, gain, glide, endpoint=False)
        self._gain = gain
        out = self._limit(x * envelope)
        if measured > _SILENT_LUFS:
            # Limiting a peaky segment takes loudness away: make it up and limit again, twice
            # at most (each round loses less).
            for _ in range(2):
                shortfall = self.target - integrated_loudness(out, self.sample_rate)
                if shortfall < 0.1:
                    break
                out = self._limit(out * 10 ** (shortfall / 20))
        return np.clip(out, -1.0, 1.0).astype(np.float32)

    def _limit(self, out: F64) -> F64:
        ceiling = 10 ** (TRUE_PEAK_DBTP / 20)
        peak = true_peak(out)
        if peak <= ceiling:
            return out
        # Limit the samples to the ceiling less the measured inter-sample overshoot...
        sample_peak = float(np.abs(out).max())
        out = limit(out, ceiling * sample_peak / peak, self.sample_rate)
        # ...and trim whatever still overshoots between samples.
        peak = true_peak(out)
        return out * (ceiling / peak) if peak > ceiling else out
