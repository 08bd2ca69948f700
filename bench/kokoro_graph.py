"""What kokoro_graph.py's rewrites save: Kokoro as exported (int8 ConvInteger), with float 2-D
convolutions, and as shipped (int8 QLinearConv where the measured ranges allow, float elsewhere).

Renders bench/quality.py's three sentences with one stock pack, once to warm up and then
`--repeats` times each, on one thread, and prints CPU seconds per second of speech for each
model, taking each sentence's fastest run (this VM's speed drifts by 10-20 % from minute to
minute). Run on an idle machine:

    python -m bench.kokoro_graph [--repeats 3] [--pack jf_alpha]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bench.quality import SENTENCES  # noqa: E402
from vocalis.worker.engines import kokoro_ranges  # noqa: E402
from vocalis.worker.engines.kokoro_graph import optimised  # noqa: E402
from vocalis.worker.engines.kokoro_model import (  # noqa: E402
    PINNED,
    SAMPLE_RATE,
    KokoroModel,
    ModelFiles,
    verified_bytes,
)
from vocalis.worker.engines.kokoro_phonemes import phonemize  # noqa: E402

Render = Callable[[list[int], np.ndarray], np.ndarray]


def session(model: bytes) -> Render:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    run = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"]).run

    def render(tokens: list[int], style: np.ndarray) -> np.ndarray:
        inputs = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[len(tokens) - 1].reshape(1, -1),
            "speed": np.array([1.0], dtype=np.float32),
        }
        return np.asarray(run(None, inputs)[0]).ravel()

    return render


def costs(
    renders: dict[str, Render], texts: list[list[int]], style: np.ndarray, repeats: int
) -> dict[str, float]:
    """CPU seconds per second of speech of each model; the models take turns, so a slow
    minute of the machine does not fall on one of them only."""
    fastest = {name: [float("inf")] * len(texts) for name in renders}
    seconds = [0.0] * len(texts)
    for _ in range(repeats + 1):  # the first round warms up, and may be the fastest anyway
        for i, tokens in enumerate(texts):
            for name, render in renders.items():
                start = time.process_time()
                audio = render(tokens, style)
                fastest[name][i] = min(fastest[name][i], time.process_time() - start)
                seconds[i] = len(audio) / SAMPLE_RATE
    return {name: sum(cpu) / sum(seconds) for name, cpu in fastest.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pack", default="jf_alpha")
    args = parser.parse_args(argv)
    model = KokoroModel(threads=1)  # the vocabulary and packs; its session is the rewritten one
    texts = [model.tokens(phonemize(text, "English")) for text in SENTENCES]
    exported = verified_bytes(ModelFiles.installed().parts, PINNED["model"], "model")
    start = time.process_time()
    shipped = optimised(exported, kokoro_ranges.load(PINNED["model"]))
    print(f"rewriting the graph: {time.process_time() - start:.1f} CPU-s (once per process)")
    models = {
        "as exported (int8)": exported,
        "float convolutions": optimised(exported),
        "as shipped": shipped,
    }
    renders = {name: session(blob) for name, blob in models.items()}
    for name, figure in costs(renders, texts, model.packs[args.pack], args.repeats).items():
        print(f"{name:>20}: {figure:.3f} CPU-s per second of speech, one thread")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
