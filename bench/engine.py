"""Real-time factor and memory of the `local` engine, pinned to one CPU core.

    python -m bench.engine [--reference REF.wav --transcript "words"] [--cache-dir DIR]

Prints, for clone jobs of about 10 s and 60 s of output: wall time, real-time factor (compute
seconds per second of audio; below 1 is faster than real time) and the share spent in each
stage; then the process's peak RSS and tracemalloc's peak of traced allocations during one
60 s job. The first job of a voice also pays for the reference analysis and espeak's
calibration; that cold cost is printed separately. Without --reference, a reference is made
by re-pitching espeak speech with WORLD, so the benchmark needs nothing downloaded.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

PARAGRAPH = (
    "The old lighthouse stood at the end of the harbour wall, its paint faded by decades of "
    "salt and wind. Every evening the keeper climbed the narrow stairs, wound the clockwork, "
    "and watched the beam sweep across the water. Ships he would never meet passed safely in "
    "the dark, and in the morning he wrote a single line in the log before going to sleep. "
)


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def make_reference(folder: Path) -> tuple[Path, str]:
    import pyworld
    import soundfile as sf

    from vocalis.worker.engines import espeak
    from vocalis.worker.engines.calibration import PASSAGES

    text = PASSAGES["English"]
    audio = espeak.speak(text, espeak.Voice("English")).astype(np.float64)
    f0, times = pyworld.harvest(audio, espeak.SAMPLE_RATE, f0_floor=50, f0_ceil=400)
    envelope = pyworld.cheaptrick(audio, f0, times, espeak.SAMPLE_RATE)
    aperiodicity = pyworld.d4c(audio, f0, times, espeak.SAMPLE_RATE)
    out = pyworld.synthesize(f0 * 1.9, envelope, aperiodicity, espeak.SAMPLE_RATE)
    path = folder / "reference.wav"
    sf.write(path, out * 0.3, espeak.SAMPLE_RATE)
    return path, text


def text_for(seconds: float) -> str:
    words = PARAGRAPH.split()
    count = int(seconds * 3.4)  # espeak reads ~3.4 words per second at its default rate
    return " ".join(words[i % len(words)] for i in range(count)).rstrip(",") + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path)
    parser.add_argument("--transcript", default="")
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()
    pin_to_one_core()

    from vocalis.worker.engines.base import SynthesisRequest, synthesize_whole
    from vocalis.worker.engines.local import LocalEngine

    with tempfile.TemporaryDirectory() as tmp:
        reference, transcript = args.reference, args.transcript
        if reference is None:
            reference, transcript = make_reference(Path(tmp))
        engine = LocalEngine(cache_dir=args.cache_dir)

        def job(seconds: float) -> tuple[float, float]:
            request = SynthesisRequest(
                kind="clone",
                text=text_for(seconds),
                language="English",
                ref_audio_path=reference,
                ref_text=transcript,
            )
            start = time.perf_counter()
            audio = synthesize_whole(engine, request, lambda _: None)
            return time.perf_counter() - start, len(audio) / engine.sample_rate

        cold, cold_audio = job(3)
        print(f"cold start (reference analysis + calibration + {cold_audio:.1f} s): {cold:.2f} s")
        profiler = cProfile.Profile() if args.profile else None
        for target in (10, 60):
            if profiler:
                profiler.enable()
            wall, audio_s = job(target)
            if profiler:
                profiler.disable()
            rtf = wall / audio_s
            print(
                f"~{target:>2} s job: {audio_s:6.1f} s of audio in {wall:6.2f} s -> RTF {rtf:.3f}"
            )

        tracemalloc.start()
        job(60)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        traced = peak / 2**20
        print(f"peak RSS {rss_kib / 1024:.0f} MiB; traced peak during a 60 s job {traced:.0f} MiB")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
