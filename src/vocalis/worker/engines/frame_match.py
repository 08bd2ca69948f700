"""Frame matching: pull each espeak frame toward the reference's own frames that resemble it.

The global maps (warp, long-term EQ, contrast) move espeak's *average* colour to the
reference's, but every frame still has espeak's synthetic shape. Here each voiced frame is
compared, as a level-free mel-band spectrum, with a sample of the reference's voiced frames
(`VoiceProfile.frames_db`, from analysis.codebook); its nearest neighbours' mean shape is the
frame's target, and the envelope moves part of the way there. This is k-nearest-neighbour voice
conversion (as kNN-VC, on WORLD envelopes instead of WavLM features).

Why part of the way, and why several neighbours: a reference of a few seconds does not hold
every sound of the language, so a full replacement would pull vowels toward whichever ones the
reference happens to contain and blur the words. Measured on bench.quality's twelve references:
strength 0.5 with 16 neighbours raised speaker similarity 0.627 -> 0.668 while PocketSphinx's
word error rate on the same sentences went 0.828 -> 0.854 (raw espeak: 0.806); full strength or
4-8 neighbours gained up to +0.02 more similarity but cost several times more words, and so did
matching unvoiced frames too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines.analysis import (
    CODEBOOK_BANDS,
    CODEBOOK_LOW_HZ,
    frequencies,
    mel_bands,
)

F64 = npt.NDArray[np.float64]

NEIGHBOURS = 16
STRENGTH = 0.5
_BLOCK = 1024  # frames matched at a time: bounds the distance matrix to BLOCK x CODEBOOK_FRAMES


@dataclass(frozen=True)
class Codebook:
    """A reference's voiced frames as analysis.codebook made them, and the top_hz it used."""

    frames: F64
    top_hz: float

    def match(self, envelope_db: F64, strength: float = STRENGTH) -> F64:
        """`envelope_db` (frames, BINS) moved `strength` of the way, band by band, toward the
        mean shape of each frame's NEIGHBOURS nearest codebook frames. Fine structure and
        level are kept; only the band shape moves."""
        if strength <= 0 or len(self.frames) == 0 or len(envelope_db) == 0:
            return envelope_db
        weights, to_bins = _projections(self.top_hz)
        k = min(NEIGHBOURS, len(self.frames))
        squared = (self.frames**2).sum(axis=1)
        out = envelope_db.copy()
        for start in range(0, len(envelope_db), _BLOCK):
            bands = envelope_db[start : start + _BLOCK] @ weights.T
            shape = bands - bands.mean(axis=1, keepdims=True)
            # Squared distances less each row's own |shape|^2, which does not change the ranking.
            distance = squared[None, :] - 2 * shape @ self.frames.T
            nearest = np.argpartition(distance, k - 1, axis=1)[:, :k]
            delta = self.frames[nearest].mean(axis=1) - shape
            out[start : start + _BLOCK] += strength * (delta @ to_bins)
        return out


@functools.lru_cache(maxsize=32)  # one per recent voice's bandwidth; ~330 kB each
def _projections(top_hz: float) -> tuple[F64, F64]:
    """Bins -> codebook bands (as analysis.codebook) and back (linear interpolation), as
    matrices; the same for every chunk of a voice, so built once."""
    weights, centres = mel_bands(CODEBOOK_BANDS, CODEBOOK_LOW_HZ, top_hz)
    to_bins = np.stack([np.interp(frequencies(), centres, row) for row in np.eye(CODEBOOK_BANDS)])
    return weights, to_bins
