"""Time to first audio, and to completion, on `vocalis serve` with its embedded local engine.

For one sentence and for a 2 000-character text: from `POST /api/generate` to the first audio
byte of `GET /api/generations/{id}/stream` (opened right after generate answers, as the web app
does), and to the task's completion (polled every 0.25 s). Median of `--runs` runs each, after
one warm-up generation (the voice's reference analysis is cached per worker process).

Targets (issue 12, this 2-core machine, otherwise idle): first audio <= 1.5 s for both texts;
completion no slower than before streaming. `--no-stream` measures completion only, by polling,
so the same script measures a checkout from before streaming existed:

    python -m bench.first_audio [--runs 5] [--engine local]
    PYTHONPATH=/path/to/old/checkout/src python -m bench.first_audio --no-stream
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from tests.serve_process import Studio, answers, serving, wait_for

SENTENCE = "The lighthouse keeper climbed the stairs as the storm rolled in from the sea."
PARAGRAPH = (
    "Every evening at dusk the keeper climbed the hundred and twelve steps of the old tower, "
    "carrying a lamp, a flask of tea and a notebook in which he wrote down the weather. "
    "The sea below was rarely calm. In winter the waves rose higher than the rocks and threw "
    "their spray against the lower windows, and on the worst nights the whole tower hummed "
    "like a plucked string. He had learned to sleep through it, mostly. "
)
LONG = (PARAGRAPH * 6)[:2000]


def one_run(studio: Studio, text: str, stream: bool) -> tuple[float | None, float]:
    """(seconds to the first audio byte, seconds to completion) of one generation."""
    start = time.monotonic()
    body = {"voice_id": studio.voice_id, "text": text, "language": "English"}
    started = studio.http.post("/api/generate", headers=studio.headers, json=body).json()
    first: float | None = None
    if stream:
        url = f"/api/generations/{started['generation_id']}/stream"
        with studio.http.stream("GET", url, headers=studio.headers, timeout=600) as response:
            for chunk in response.iter_bytes():
                if chunk and first is None:
                    first = time.monotonic() - start
    while studio.task(started["task_id"])["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(0.25)
    return first, time.monotonic() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", default="local")
    parser.add_argument("--no-stream", action="store_true", help="completion only (old servers)")
    args = parser.parse_args(argv)
    stream = not args.no_stream
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        env = {"VOCALIS_ENGINE": args.engine}
        with serving(Path(tmp) / "data", env) as serve:
            wait_for(lambda: answers(f"{serve.base}/api/health"), 60)  # older serves said it early
            studio = Studio.sign_up(serve.base, Path(tmp))
            studio.http.timeout = httpx.Timeout(600)
            one_run(studio, SENTENCE, stream)  # warm-up: the voice's analysis is cached
            print(f"engine {args.engine}, {args.runs} runs each, median (min-max)")
            for name, text in (("one sentence", SENTENCE), ("2000 characters", LONG)):
                firsts, totals = [], []
                for _ in range(args.runs):
                    first, total = one_run(studio, text, stream)
                    if first is not None:
                        firsts.append(first)
                    totals.append(total)
                line = f"{name:>16} ({len(text)} chars): completion {_summary(totals)}"
                if firsts:
                    line += f", first audio {_summary(firsts)}"
                    met &= statistics.median(firsts) <= 1.5
                print(line)
            studio.close()
    if stream:
        print(f"target first audio <= 1.5 s for both texts: {'met' if met else 'MISSED'}")
    return 0 if met else 1


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
