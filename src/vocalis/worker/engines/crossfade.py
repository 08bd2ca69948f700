"""Crossfaded seams, decided while the audio streams.

`crossfade_join` overlaps each seam by up to `fade` samples, which needs the next
clip's head before the previous clip's tail can be final. `Crossfade` holds that tail back:
each clip hands out everything that can no longer change, and the tail goes out mixed into the
next clip's segment (or alone at the end). The segments joined equal `crossfade_join(clips)`
sample for sample: the same float32 operations on the same values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def crossfade_join(parts: Sequence[npt.ArrayLike], fade_samples: int) -> F32:
    """Concatenate mono clips, overlapping each seam by up to `fade_samples` with linear fades.

    The fades sum to one across the overlap, so a signal that continues across a seam keeps its
    level; a clip shorter than the fade gets a proportionally shorter one. Each seam shortens
    the result by its overlap.
    """
    clips = [np.asarray(part, dtype=np.float32).reshape(-1) for part in parts]
    clips = [clip for clip in clips if clip.size]
    if not clips:
        return np.zeros(0, dtype=np.float32)
    out = clips[0].copy()
    for clip in clips[1:]:
        overlap = max(0, min(fade_samples, out.size, clip.size))
        if overlap == 0:
            out = np.concatenate([out, clip])
            continue
        # Endpoints excluded so neither clip is ever fully silenced or fully doubled.
        fade_in = (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1)).astype(np.float32)
        mixed = out[-overlap:] * (1.0 - fade_in) + clip[:overlap] * fade_in
        out = np.concatenate([out[:-overlap], mixed, clip[overlap:]])
    return out


class Crossfade:
    def __init__(self, fade_samples: int) -> None:
        self._fade = max(0, fade_samples)
        self._tail: F32 | None = None  # the last <= fade samples of the output, not yet out

    def add(self, clip: npt.ArrayLike) -> F32:
        """Mix `clip` in; return the samples that are now final (possibly none)."""
        part = np.asarray(clip, dtype=np.float32).reshape(-1)
        if part.size == 0:
            return np.zeros(0, dtype=np.float32)
        if self._tail is None:
            out = part.copy()
        else:
            overlap = min(self._fade, self._tail.size, part.size)
            if overlap == 0:
                out = np.concatenate([self._tail, part])
            else:
                fade_in = (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1)).astype(
                    np.float32
                )
                mixed = self._tail[-overlap:] * (1.0 - fade_in) + part[:overlap] * fade_in
                out = np.concatenate([self._tail[:-overlap], mixed, part[overlap:]])
        keep = min(self._fade, out.size)
        self._tail = out[out.size - keep :]
        return out[: out.size - keep]

    def finish(self) -> F32:
        """The held-back tail: the end of the audio."""
        tail = self._tail if self._tail is not None else np.zeros(0, dtype=np.float32)
        self._tail = None
        return tail
