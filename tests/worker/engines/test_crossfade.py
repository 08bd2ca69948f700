"""Streaming crossfades: the segments handed out one by one join into exactly the crossfaded
whole, for any clip sizes, including clips shorter than the fade and empty ones."""

from __future__ import annotations

import numpy as np
import pytest

from vocalis.worker.engines.crossfade import Crossfade, crossfade_join

SIZES = [
    [1000, 2000, 1500],
    [10, 5000, 3],
    [0, 100, 0, 2000],
    [5],
    [960, 960, 960],
    [30, 20, 10, 5000],
]


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("fade", [0, 1, 40, 960])
def test_streamed_segments_join_into_the_crossfaded_whole(sizes: list[int], fade: int) -> None:
    rng = np.random.default_rng(sum(sizes) + fade)
    clips = [(0.3 * rng.standard_normal(n)).astype(np.float32) for n in sizes]
    seams = Crossfade(fade)
    segments = [seams.add(clip) for clip in clips] + [seams.finish()]
    joined = np.concatenate(segments)
    assert joined.dtype == np.float32
    np.testing.assert_array_equal(joined, crossfade_join(clips, fade))


def test_only_the_tail_is_held_back() -> None:
    seams = Crossfade(100)
    first = seams.add(np.ones(1000, dtype=np.float32))
    assert first.size == 900  # everything but the tail is final at once
    second = seams.add(np.ones(500, dtype=np.float32))
    # the held tail and the new clip overlap by 100: 100 + 500 - 100 out, 100 held again
    assert second.size == 400
    assert seams.finish().size == 100
    assert seams.finish().size == 0
