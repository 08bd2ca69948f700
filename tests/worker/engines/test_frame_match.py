"""Frame matching moves each frame's band shape toward its nearest reference frames, and only
part of the way; level and fine structure stay."""

from __future__ import annotations

import numpy as np

from vocalis.worker.engines.analysis import (
    BINS,
    CODEBOOK_BANDS,
    CODEBOOK_FRAMES,
    codebook,
    frequencies,
)
from vocalis.worker.engines.frame_match import Codebook

TOP_HZ = 8000.0


def peak_db(centre_hz: float, level_db: float = 0.0) -> np.ndarray:
    """A smooth envelope (dB per bin) with one broad formant-like bump at centre_hz."""
    return level_db + 30 * np.exp(-(((frequencies() - centre_hz) / 300) ** 2))


def band_shape(envelope_db: np.ndarray) -> np.ndarray:
    return codebook(envelope_db[None, :], TOP_HZ)[0]


def test_codebook_is_level_free_and_bounded() -> None:
    frames = np.stack([peak_db(1000, level) for level in (-40, 0, 25)])
    book = codebook(frames, TOP_HZ)
    assert book.shape == (3, CODEBOOK_BANDS)
    assert np.allclose(book.mean(axis=1), 0, atol=1e-9)
    assert np.allclose(book[0], book[2])  # the same shape at other levels is the same entry
    many = np.repeat(frames, CODEBOOK_FRAMES, axis=0)
    assert codebook(many, TOP_HZ).shape == (CODEBOOK_FRAMES, CODEBOOK_BANDS)


def test_a_frame_moves_toward_its_nearest_reference_frames_only() -> None:
    # The reference has a vowel-like shape at 700 Hz and one at 2500 Hz, many frames of each.
    reference = np.stack([peak_db(700)] * 20 + [peak_db(2500)] * 20)
    book = Codebook(codebook(reference, TOP_HZ), TOP_HZ)
    frame = peak_db(800, level_db=-12)  # near the 700 Hz shape, quieter
    moved = book.match(frame[None, :])[0]
    distance = np.linalg.norm(band_shape(moved) - band_shape(peak_db(700)))
    assert distance < 0.6 * np.linalg.norm(band_shape(frame) - band_shape(peak_db(700)))
    # ...and not toward the far shape: the neighbours (16 of 40) all come from the near one.
    assert moved[np.searchsorted(frequencies(), 2500)] < frame.max() - 20
    # Level is kept: only the shape across bands moves.
    assert abs(np.mean(moved) - np.mean(frame)) < 1.5


def test_strength_sets_how_far_a_frame_moves() -> None:
    book = Codebook(codebook(np.stack([peak_db(700)] * 20), TOP_HZ), TOP_HZ)
    frame = peak_db(1200)[None, :]
    assert np.array_equal(book.match(frame, strength=0.0), frame)
    half = book.match(frame, strength=0.5)
    full = book.match(frame, strength=1.0)
    assert np.allclose(half - frame, (full - frame) / 2)
    # Full strength lands on the target shape, up to the band -> bin interpolation.
    before = np.linalg.norm(band_shape(frame[0]) - band_shape(peak_db(700)))
    assert np.linalg.norm(band_shape(full[0]) - band_shape(peak_db(700))) < 0.1 * before


def test_many_frames_are_matched_in_blocks_like_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    book = Codebook(codebook(rng.normal(0, 6, (300, BINS)), TOP_HZ), TOP_HZ)
    frames = rng.normal(0, 6, (2500, BINS))
    together = book.match(frames)
    apart = np.concatenate([book.match(frames[i : i + 1]) for i in (0, 1500, 2499)])
    assert np.allclose(together[[0, 1500, 2499]], apart)


def test_an_empty_codebook_leaves_frames_alone() -> None:
    frames = np.stack([peak_db(900)])
    book = Codebook(np.zeros((0, CODEBOOK_BANDS)), TOP_HZ)
    assert np.array_equal(book.match(frames), frames)
