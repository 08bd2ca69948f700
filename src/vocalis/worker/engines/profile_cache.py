"""Reference analyses cached by content: an in-memory LRU plus an optional folder of .npz files.

The key hashes the reference's bytes, its transcript and ANALYSIS_VERSION, so a re-uploaded
identical file hits the cache, a changed transcript (pace) misses it, and a change to the
analysis code invalidates old entries by bumping the version. Disk entries are plain arrays
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

import numpy as np

from vocalis.worker.engines.analysis import VoiceProfile
from vocalis.worker.engines.reference import ReferenceVoice

log = logging.getLogger(__name__)

ANALYSIS_VERSION = 2  # 2: the profile keeps a codebook of voiced frames


def cache_key(path: Path, transcript: str) -> str:
    digest = hashlib.sha256(f"v{ANALYSIS_VERSION}\0{transcript}\0".encode())
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ProfileCache:
    """Thread-safe LRU of ReferenceVoice by key, backed by `directory` when one is given."""

    def __init__(self, size: int = 32, directory: Path | None = None) -> None:
        self._size = size
        self._directory = directory
        self._entries: OrderedDict[str, ReferenceVoice] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_create(self, key: str, create: Callable[[], ReferenceVoice]) -> ReferenceVoice:
        with self._lock:
            voice = self._entries.get(key)
            if voice is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return voice
        voice = self._load(key)
        if voice is None:
            voice = create()  # outside the lock: analysis takes seconds
            self._store(key, voice)
            with self._lock:
                self.misses += 1
        else:
            with self._lock:
                self.hits += 1
        with self._lock:
            self._entries[key] = voice
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return voice

    def _path(self, key: str) -> Path | None:
        return self._directory / f"{key}.npz" if self._directory is not None else None

    def _load(self, key: str) -> ReferenceVoice | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            return ReferenceVoice(
                VoiceProfile.from_arrays(arrays),
                str(arrays["language"]),
                int(arrays["syllables"]),
            )
        except (OSError, KeyError, ValueError) as exc:
            log.warning("ignoring unreadable analysis cache entry %s: %s", path, exc)
            return None

    def _store(self, key: str, voice: ReferenceVoice) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a concurrent reader never sees half a file.
            partial = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
            arrays: dict[str, np.ndarray] = {
                "language": np.array(voice.language),
                "syllables": np.array(voice.syllables),
                **voice.profile.to_arrays(),
            }
            np.savez(partial, allow_pickle=False, **arrays)
            partial.replace(path)
        except OSError as exc:  # a read-only or full disk costs speed, not correctness
            log.warning("could not write analysis cache entry %s: %s", path, exc)
