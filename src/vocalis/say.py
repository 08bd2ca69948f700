"""`vocalis say`: one synthesis straight through an engine, no server — for trying engines."""

from __future__ import annotations

import sys
from pathlib import Path


def say(
    *,
    text: str,
    out: Path,
    reference: Path | None,
    transcript: str | None,
    instruct: str | None,
    language: str,
    engine_name: str,
) -> None:
    from vocalis.audio import write_wav
    from vocalis.worker.engines import load_engine
    from vocalis.worker.engines.base import SynthesisRequest, synthesize_whole

    if reference is not None and not transcript:
        raise SystemExit("--transcript is required with --reference (the words it speaks)")
    if reference is None and not instruct:
        instruct = "a neutral adult voice"
    engine = load_engine(engine_name)
    request = SynthesisRequest(
        kind="clone" if reference is not None else "design",
        text=text,
        language=language,
        ref_audio_path=reference,
        ref_text=transcript,
        instruct=instruct,
    )

    def progress(fraction: float) -> None:
        print(f"\r{fraction:4.0%}", end="", file=sys.stderr, flush=True)

    audio = synthesize_whole(engine, request, progress)
    print(file=sys.stderr)
    write_wav(out, audio, engine.sample_rate)
