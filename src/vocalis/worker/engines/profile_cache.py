"""Per-voice results cached by content: an in-memory LRU plus an optional folder of .npz files.

Two things are cached per reference: its analysis (`ProfileCache`, what the matcher needs) and,
for the Kokoro base, its fitted style (style_fit.py), each under its own file suffix. The key
hashes the reference's bytes, its transcript and ANALYSIS_VERSION, so a re-uploaded identical
file hits the cache, a changed transcript (pace) misses it, and a change to the analysis code
invalidates old entries by bumping the version. Disk entries are plain arrays
(`allow_pickle=False`), never pickles.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from vocalis.worker.engines.analysis import VoiceProfile
from vocalis.worker.engines.reference import ReferenceVoice

log = logging.getLogger(__name__)

ANALYSIS_VERSION = 2  # 2: the profile keeps a codebook of voiced frames

T = TypeVar("T")
Arrays = dict[str, np.ndarray]


def cache_key(path: Path, transcript: str) -> str:
    digest = hashlib.sha256(f"v{ANALYSIS_VERSION}\0{transcript}\0".encode())
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArrayCache(Generic[T]):
    """Thread-safe LRU of T by key, backed by `directory` (files `{key}{suffix}`) when given.

    `encode` and `decode` turn a T into named arrays and back; a file that does not decode is
    ignored (and recomputed), never fatal.
    """

    def __init__(
        self,
        encode: Callable[[T], Arrays],
        decode: Callable[[Arrays], T],
        suffix: str,
        size: int = 32,
        directory: Path | None = None,
    ) -> None:
        self._encode = encode
        self._decode = decode
        self._suffix = suffix
        self._size = size
        self._directory = directory
        self._entries: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> T | None:
        """The cached value (memory, then disk) or None; counts a hit when found."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return value
        value = self._load(key)
        if value is not None:
            with self._lock:
                self.hits += 1
            self._remember(key, value)
        return value

    def put(self, key: str, value: T) -> None:
        """Store a freshly computed value (counts a miss: it was computed, not found)."""
        self._store(key, value)
        with self._lock:
            self.misses += 1
        self._remember(key, value)

    def get_or_create(self, key: str, create: Callable[[], T]) -> T:
        value = self.get(key)
        if value is None:
            value = create()  # outside the lock: analysis takes seconds
            self.put(key, value)
        return value

    def _remember(self, key: str, value: T) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def _path(self, key: str) -> Path | None:
        return self._directory / f"{key}{self._suffix}" if self._directory is not None else None

    def _load(self, key: str) -> T | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return self._decode({name: data[name] for name in data.files})
        except (OSError, KeyError, ValueError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None

    def _store(self, key: str, value: T) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a concurrent reader never sees half a file.
            partial = path.with_name(f"{key}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
            np.savez(partial, allow_pickle=False, **self._encode(value))
            partial.replace(path)
        except OSError as exc:  # a read-only or full disk costs speed, not correctness
            log.warning("could not write cache entry %s: %s", path, exc)


def _encode_voice(voice: ReferenceVoice) -> Arrays:
    return {
        "language": np.array(voice.language),
        "syllables": np.array(voice.syllables),
        **voice.profile.to_arrays(),
    }


def _decode_voice(arrays: Arrays) -> ReferenceVoice:
    return ReferenceVoice(
        VoiceProfile.from_arrays(arrays), str(arrays["language"]), int(arrays["syllables"])
    )


class ProfileCache(ArrayCache[ReferenceVoice]):
    """Reference analyses, as `{key}.npz` files."""

    def __init__(self, size: int = 32, directory: Path | None = None) -> None:
        super().__init__(_encode_voice, _decode_voice, ".npz", size, directory)
