"""The measured output ranges of Kokoro's int8 convolutions: measured once, shipped, pinned.

QLinearConv writes its output in 8 bits on one fixed scale; kokoro_graph.py gives each output
channel its own scale from the ranges kept in RANGES_FILE (beside this module), which were
measured on the float graph reading the first sentences of the calibration passage of every
language Kokoro speaks here, in every stock pack and in seeded mixtures like those a style fit
explores (style_fit.py). The file records the model's SHA-256 and is refused for another model.
Regenerate it after a change to the model or to INT8_CONVS, on any machine (it is deterministic
up to float rounding; ~11 CPU-minutes, 6 minutes on two cores):

    python -m vocalis.worker.engines.kokoro_ranges
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines.calibration import PASSAGES
from vocalis.worker.engines.kokoro_graph import (
    ConvRanges,
    GraphMismatch,
    int8_candidates,
    optimised,
)

F32 = npt.NDArray[np.float32]

RANGES_FILE = Path(__file__).with_name("kokoro_conv_ranges.npz")
SENTENCES_PER_LANGUAGE = 2
MIXTURES = 6  # seeded random styles besides the stock packs
SEED = 0


def load(model_sha256: str, path: Path | None = None) -> ConvRanges:
    """The shipped ranges (or `path`'s); GraphMismatch when measured on another model."""
    path = path or RANGES_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["model_sha256"]) != model_sha256:
                raise GraphMismatch(f"{path.name} was measured on another model")
            names, ends = data["names"], data["ends"]
            low, high = data["low"], data["high"]
    except (OSError, KeyError, ValueError) as exc:
        raise GraphMismatch(f"{path.name} could not be read: {exc}") from exc
    starts = np.concatenate([[0], ends[:-1]])
    return {
        str(name): (low[start:end], high[start:end])
        for name, start, end in zip(names, starts, ends, strict=True)
    }


def save(ranges: ConvRanges, model_sha256: str, path: Path | None = None) -> None:
    names = sorted(ranges)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        model_sha256=np.array(model_sha256),
        names=np.array(names),
        ends=np.cumsum([len(ranges[name][0]) for name in names]),
        low=np.concatenate([ranges[name][0] for name in names]).astype(np.float32),
        high=np.concatenate([ranges[name][1] for name in names]).astype(np.float32),
    )
    (path or RANGES_FILE).write_bytes(buffer.getvalue())


class Probe:
    """The float graph with every int8 candidate's output exposed."""

    def __init__(self, model_bytes: bytes) -> None:
        import onnx
        import onnxruntime
        from onnx import TensorProto, helper

        model = onnx.load_from_string(optimised(model_bytes))
        self.names = int8_candidates(model_bytes)
        model.graph.output.extend(
            helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in self.names
        )
        self._session: Any = onnxruntime.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )

    def ranges(self, tokens: Sequence[int], style: F32) -> dict[str, tuple[F32, F32]]:
        """Each exposed convolution's per-channel (low, high) for one render."""
        outputs = self._session.run(
            self.names,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style[len(tokens) - 1].reshape(1, -1),
                "speed": np.array([1.0], dtype=np.float32),
            },
        )
        return {
            name: (out.min(axis=(0, 2)), out.max(axis=(0, 2)))
            for name, out in zip(self.names, outputs, strict=True)
        }


def widest(measured: Iterable[Mapping[str, tuple[F32, F32]]]) -> dict[str, tuple[F32, F32]]:
    """The union of per-render ranges."""
    out: dict[str, tuple[F32, F32]] = {}
    for ranges in measured:
        for name, (low, high) in ranges.items():
            if name in out:
                low, high = np.minimum(out[name][0], low), np.maximum(out[name][1], high)
            out[name] = (low, high)
    return out


def styles(packs: Mapping[str, F32], count: int, seed: int) -> list[F32]:
    """The stock packs and `count` random mixtures with timbre offsets, as a style fit makes."""
    from vocalis.worker.engines.style_fit import OFFSET_LIMIT, TIMBRE_DIMS, mix

    names = sorted(packs)
    spread = np.stack([packs[n][:, :TIMBRE_DIMS] for n in names]).std(axis=(0, 1)) + 1e-3
    rng = np.random.default_rng(seed)
    mixed = [
        mix(
            packs,
            rng.normal(0.0, 2.0, len(names)),
            OFFSET_LIMIT * spread * rng.uniform(-1, 1, TIMBRE_DIMS),
        )
        for _ in range(count)
    ]
    return [packs[name] for name in names] + mixed


def main() -> int:
    from vocalis.worker.engines.kokoro_model import PINNED, KokoroModel, ModelFiles, verified_bytes
    from vocalis.worker.engines.kokoro_phonemes import COVERED, phonemize

    exported = verified_bytes(ModelFiles.installed().parts, PINNED["model"], "model")
    model = KokoroModel(threads=1, int8=False)
    probe = Probe(exported)
    texts = [
        model.tokens(phonemize(sentence, language))
        for language in sorted(COVERED)
        for sentence in _sentences(PASSAGES[language])[:SENTENCES_PER_LANGUAGE]
    ]
    measured = (
        probe.ranges(tokens, style)
        for style in styles(model.packs, MIXTURES, SEED)
        for tokens in texts
    )
    save(widest(measured), PINNED["model"])
    print(f"wrote {RANGES_FILE} ({len(probe.names)} convolutions, {len(texts)} sentences)")
    return 0


def _sentences(passage: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?。])\s*", passage) if s.strip()]


if __name__ == "__main__":
    raise SystemExit(main())
