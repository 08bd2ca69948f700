"""Voice-following quality of the offline `local` engine on real human speech.

Each reference recording (bench/downloads.py: alsa-utils phrases, pyannote's sample call) is
cloned by the `local` engine on a few sentences. The baseline is raw espeak-ng speaking the
same sentences with the variant (male or female) the engine picks for that reference, i.e. the
engine with its voice matching left out; the similarity of espeak's default voice is shown too.
Against the reference, for both:

- similarity: cosine of Resemblyzer d-vectors (bench/speaker.py), averaged over sentences;
- F0: median voiced F0 (WORLD Harvest) of the output minus the reference's, in semitones;
- loudness: integrated loudness (ITU-R BS.1770, pyloudnorm) difference, in LU;
- word errors: PocketSphinx's word error rate on the sentences (bench/intelligibility.py), for
  the cost of voice matching in words; shown when the `bench` extra is installed, no target.

Targets: similarity >= 0.65 on average and >= 0.10 above the baseline on average; every
reference within 1 semitone and 1 LU. Exits 1 when a target is missed.

    apt-get install alsa-utils        # optional: adds eight references
    pip install -e '.[bench]'         # optional: adds the word error rates
    python -m bench.quality [--limit N] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pyworld
import soundfile as sf

from bench import downloads
from bench.intelligibility import Recognizer, word_errors
from bench.speaker import VoiceEncoder, cosine
from vocalis.worker.engines import espeak, local
from vocalis.worker.engines.base import SynthesisRequest, synthesize_whole
from vocalis.worker.engines.local import LocalEngine

SENTENCES = (
    "The studio opens at nine, so please bring the recordings before lunch.",
    "A gentle breeze carried the smell of rain across the quiet harbour.",
    "Could you read the last paragraph again, a little more slowly this time?",
)
MIN_SIMILARITY = 0.65
MIN_GAIN = 0.10
MAX_SEMITONES = 1.0
MAX_LU = 1.0

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scores:
    similarity: float
    semitones: float  # signed: output above the reference is positive
    lu: float  # signed: output louder than the reference is positive
    word_errors: tuple[int, int] | None  # (errors, words) over the sentences; None: no recogniser


@dataclass(frozen=True)
class Row:
    name: str
    engine: Scores
    espeak: Scores  # espeak's variant the engine starts from, without the voice matching
    default_similarity: float  # espeak's default English voice


@dataclass(frozen=True)
class ReferenceFigures:
    """The figures of one recording that every output is compared with."""

    embedding: npt.NDArray[np.float32]
    f0_hz: float
    lufs: float


def median_f0(audio: Audio, rate: int) -> float:
    f0, _ = pyworld.harvest(audio.astype(np.float64), rate, f0_floor=50.0, f0_ceil=600.0)
    return float(np.median(f0[f0 > 0]))


def loudness(audio: Audio, rate: int) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64)))


def figures(audio: Audio, rate: int, encoder: VoiceEncoder) -> ReferenceFigures:
    return ReferenceFigures(
        encoder.embed(audio, rate), median_f0(audio, rate), loudness(audio, rate)
    )


def score(
    outputs: Sequence[Audio],
    rate: int,
    ref: ReferenceFigures,
    encoder: VoiceEncoder,
    recognizer: Recognizer | None,
) -> Scores:
    """Compare the sentences spoken in one voice with the reference recording."""
    errors = None
    if recognizer is not None:
        counts = [
            word_errors(text, recognizer.transcribe(out, rate))
            for text, out in zip(SENTENCES, outputs, strict=True)
        ]
        errors = (sum(e for e, _ in counts), sum(n for _, n in counts))
    similarity = fmean(cosine(encoder.embed(out, rate), ref.embedding) for out in outputs)
    # Short pauses between sentences keep the gating and the F0 track as for running speech.
    pause = np.zeros(int(0.3 * rate), np.float32)
    joined = np.concatenate([part for out in outputs for part in (out, pause)])
    semitones = 12 * np.log2(median_f0(joined, rate) / ref.f0_hz)
    return Scores(similarity, float(semitones), loudness(joined, rate) - ref.lufs, errors)


def measure(
    ref: downloads.Reference,
    engine: LocalEngine,
    encoder: VoiceEncoder,
    recognizer: Recognizer | None,
) -> Row:
    audio, rate = sf.read(ref.path, dtype="float32", always_2d=True)
    target = figures(audio.mean(axis=1), rate, encoder)
    cloned = [
        synthesize_whole(
            engine,
            SynthesisRequest(
                kind="clone",
                text=text,
                language="English",
                ref_audio_path=ref.path,
                ref_text=ref.text,
            ),
            progress=lambda _: None,
        )
        for text in SENTENCES
    ]
    # The baseline is the espeak voice the engine picks for this reference (male or female
    # variant) with the matching stage left out, so the gain is what the matching adds.
    profile = engine.reference_voice(ref.path, ref.text).profile
    variant = espeak.Voice("English", female=profile.f0_median_hz > local.FEMALE_SOURCE_HZ)
    raw = [espeak.speak(text, variant) for text in SENTENCES]
    default = [espeak.speak(text, espeak.Voice("English")) for text in SENTENCES]
    embeddings = (encoder.embed(out, espeak.SAMPLE_RATE) for out in default)
    return Row(
        ref.name,
        score(cloned, engine.sample_rate, target, encoder, recognizer),
        score(raw, espeak.SAMPLE_RATE, target, encoder, recognizer),
        fmean(cosine(e, target.embedding) for e in embeddings),
    )


def report(rows: Sequence[Row]) -> bool:
    """Print the table and the averages against the targets; True when every target is met."""
    both = "engine  espeak"
    print(
        f"{'reference':<24} {'similarity':^25} {'F0 error (st)':^17} {'loudness (LU)':^17} "
        f"{'word errors':^17}".rstrip()
    )
    print(f"{'':<24} {'engine  espeak  default':>25} {both:>17} {both:>17} {both:>17}")
    for row in rows:
        e, b = row.engine, row.espeak
        print(
            f"{row.name:<24} {e.similarity:8.3f} {b.similarity:7.3f} {row.default_similarity:8.3f} "
            f"{e.semitones:+8.2f} {b.semitones:+7.2f} {e.lu:+8.2f} {b.lu:+7.2f} "
            f"{_error_rate([e]):>8} {_error_rate([b]):>7}"
        )
    similarity = fmean(r.engine.similarity for r in rows)
    gain = similarity - fmean(r.espeak.similarity for r in rows)
    semitones = [abs(r.engine.semitones) for r in rows]
    lus = [abs(r.engine.lu) for r in rows]
    worst_st, worst_lu = max(semitones), max(lus)
    checks = [
        ("mean similarity", similarity, f">= {MIN_SIMILARITY}", similarity >= MIN_SIMILARITY),
        ("mean gain over baseline", gain, f">= {MIN_GAIN}", gain >= MIN_GAIN),
        ("mean |F0 error| (st)", fmean(semitones), "", True),
        ("max |F0 error| (st)", worst_st, f"<= {MAX_SEMITONES}", worst_st <= MAX_SEMITONES),
        ("mean |loudness error| (LU)", fmean(lus), "", True),
        ("max |loudness error| (LU)", worst_lu, f"<= {MAX_LU}", worst_lu <= MAX_LU),
    ]
    print()
    for label, value, target, ok in checks:
        verdict = ("PASS" if ok else "FAIL") if target else ""
        print(f"{label:<28} {value:7.3f}  {target:<8} {verdict}".rstrip())
    engine_wer = _error_rate([r.engine for r in rows])
    espeak_wer = _error_rate([r.espeak for r in rows])
    print(f"{'word error rate':<28} {engine_wer:>7}  (raw espeak {espeak_wer}; no target)")
    return all(ok for *_, ok in checks)


def _error_rate(scores: Sequence[Scores]) -> str:
    """Word errors over words, pooled; '-' without a recogniser."""
    counts = [s.word_errors for s in scores if s.word_errors is not None]
    if not counts:
        return "-"
    return f"{sum(e for e, _ in counts) / max(sum(n for _, n in counts), 1):.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=downloads.default_cache_dir())
    parser.add_argument("--limit", type=int, default=None, help="use only the first N references")
    args = parser.parse_args(argv)

    references = downloads.pyannote_references(args.cache_dir) + downloads.alsa_references()
    if not any(r.speaker == "alsa" for r in references):
        print("note: alsa-utils is not installed; using the pyannote sample only", file=sys.stderr)
    encoder = VoiceEncoder(downloads.resemblyzer_weights(args.cache_dir))
    engine = LocalEngine()
    try:
        recognizer: Recognizer | None = Recognizer()
    except ImportError:
        print("note: pocketsphinx is not installed; no word error rates", file=sys.stderr)
        recognizer = None
    rows = [measure(ref, engine, encoder, recognizer) for ref in references[: args.limit]]
    return 0 if report(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
