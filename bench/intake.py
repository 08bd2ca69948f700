"""Clone intake: transcription accuracy and speed, reference-check verdicts, output loudness.

On the benchmark's real references (bench/downloads.py: alsa-utils phrases when installed,
pyannote's sample call) this measures, offline once the references are fetched:

- transcription: Whisper base (int8, CPU, `--threads`), word error rate against each
  reference's transcript and real-time factor (seconds of compute per second of audio);
- reference checks: the verdict on every good reference (expected: no warning) and on bad ones
  made from the longest: too quiet (-18 dB), clipped (x8), noisy (white noise), a mismatched
  transcript (another reference's), a 60 s monologue (references joined) - each must be flagged
  with its own code;
- output loudness: the `local` engine clones each reference, segments leveled as the worker
  levels them (-16 LUFS); the spread of integrated loudness across voices, against the spread
  without leveling (each output following its reference's level, as before).

Targets: WER <= 15 %, every bad case flagged, no good case flagged, loudness spread <= 1 LU.
Exits 1 when one is missed. Figures measured on a loaded machine are indicative.

    pip install -e '.[transcription]'   # the model (the dev extra includes it)
    python -m bench.intake [--threads 1] [--limit N] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench import downloads
from vocalis.audio import decode
from vocalis.worker.engines.base import SynthesisRequest
from vocalis.worker.engines.local import LocalEngine
from vocalis.worker.loudness import Leveler, integrated_loudness
from vocalis.worker.reference_checks import RATE, check_reference, error_rate
from vocalis.worker.transcription import Transcriber, Transcript

MAX_WER = 0.15
MAX_SPREAD_LU = 1.0
TEXT = "The studio opens at nine, so please bring the recordings before lunch."


def transcription(
    refs: Sequence[downloads.Reference], model: Transcriber
) -> tuple[float, dict[str, Transcript]]:
    print("\n== transcription (Whisper base, int8)")
    edits = words = 0.0
    compute = audio_seconds = 0.0
    transcripts: dict[str, Transcript] = {}
    for ref in refs:
        audio = decode(ref.path, RATE)
        start = time.perf_counter()
        transcript = model.transcribe(audio)
        spent = time.perf_counter() - start
        wer = error_rate(ref.text, transcript.text)
        n = len(ref.text.split())
        edits, words = edits + wer * n, words + n
        compute, audio_seconds = compute + spent, audio_seconds + len(audio) / RATE
        transcripts[ref.name] = transcript
        seconds = len(audio) / RATE
        print(f"{ref.name:32s} {seconds:5.1f} s  WER {wer:6.1%}  RTF {spent / seconds:.2f}")
        print(f"    heard: {transcript.text}")
    total = edits / max(words, 1)
    print(f"overall: WER {total:.1%} over {words:.0f} words; RTF {compute / audio_seconds:.3f}")
    return total, transcripts


def verdicts(
    refs: Sequence[downloads.Reference], model: Transcriber, transcripts: dict[str, Transcript]
) -> bool:
    print("\n== reference checks")
    ok = True
    for ref in refs:
        audio = decode(ref.path, RATE)
        codes = [w.code for w in check_reference(audio, transcripts[ref.name], ref.text).warnings]
        good = not codes
        ok &= good
        print(f"good {ref.name:32s} {'ok' if good else 'FLAGGED'} {codes}")
    longest = max(refs, key=lambda r: len(decode(r.path, RATE)))
    base = decode(longest.path, RATE).astype(np.float64)
    noise = np.random.default_rng(0).standard_normal(len(base)) * np.sqrt(np.mean(base**2))
    other = next((r.text for r in refs if r.text != longest.text), "Something else entirely.")
    monologue = np.concatenate([decode(r.path, RATE) for r in list(refs) * 20])[: 60 * RATE]
    cases = {
        "too_quiet": (base * 10 ** (-18 / 20), longest.text),
        "clipped": (np.clip(base * 8, -1, 1), longest.text),
        "too_noisy": (base + noise * 0.7, longest.text),
        "transcript_mismatch": (base, other),
        "too_long": (monologue, None),
    }
    for code, (audio, typed) in cases.items():
        transcript = model.transcribe(audio.astype(np.float32))
        found = [w.code for w in check_reference(audio, transcript, typed).warnings]
        flagged = code in found
        ok &= flagged
        print(f"bad  {code:32s} {'flagged' if flagged else 'MISSED'} {found}")
    return ok


def loudness_spread(refs: Sequence[downloads.Reference]) -> float:
    print("\n== output loudness across voices (local engine)")
    engine = LocalEngine()
    leveled_levels, raw_levels = [], []
    for ref in refs:
        request = SynthesisRequest(
            "clone", TEXT, "English", ref_audio_path=ref.path, ref_text=ref.text
        )
        level = Leveler(engine.sample_rate)
        raw = list(engine.synthesize(request, lambda _f: None))
        leveled = np.concatenate([level(segment) for segment in raw])
        raw_levels.append(integrated_loudness(np.concatenate(raw), engine.sample_rate))
        leveled_levels.append(integrated_loudness(leveled, engine.sample_rate))
        raw_lufs, leveled_lufs = raw_levels[-1], leveled_levels[-1]
        print(f"{ref.name:32s} as before {raw_lufs:6.1f} LUFS, leveled {leveled_lufs:6.1f} LUFS")
    spread = max(leveled_levels) - min(leveled_levels)
    print(f"spread: {spread:.2f} LU leveled, {max(raw_levels) - min(raw_levels):.1f} LU before")
    return spread


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=downloads.default_cache_dir())
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N references")
    args = parser.parse_args(argv)
    refs = downloads.alsa_references() + downloads.pyannote_references(args.cache_dir)
    refs = refs[: args.limit] if args.limit else refs
    started = time.perf_counter()
    model = Transcriber.from_cache(args.cache_dir / "models", threads=args.threads)
    print(f"model assembled, verified and loaded in {time.perf_counter() - started:.1f} s")
    wer, transcripts = transcription(refs, model)
    checks_ok = verdicts(refs, model, transcripts)
    spread = loudness_spread(refs)
    passed = wer <= MAX_WER and checks_ok and spread <= MAX_SPREAD_LU
    print(
        f"\n{'PASS' if passed else 'FAIL'}: WER {wer:.1%} (<= {MAX_WER:.0%}), checks "
        f"{'right' if checks_ok else 'WRONG'}, spread {spread:.2f} LU (<= {MAX_SPREAD_LU} LU)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
