"""Clone intake: transcription accuracy and speed, reference-check verdicts, output loudness.

On real human speech fetched by bench/downloads.py (alsa-utils phrases when installed,
pyannote's sample call), offline once it is fetched, this measures:

- good references, what a careful user would upload: one speaker's phrases or turns joined back
  to back (each faded in and out over 10 ms) into 6-16 s, brought to a normal recording level
  (-20 LUFS, or less where a -1 dBFS peak comes first): the eight alsa-utils phrases; each
  pyannote speaker's turns of at least 3 s;
- transcription: Whisper base (int8, CPU, `--threads`) on the good references, word error rate
  against their transcripts and real-time factor (seconds of compute per second of audio);
- reference checks: the verdict on every good reference (expected: no warning) and on bad ones
  made from each good one, every bad one carrying one defect: too quiet (-18 dB), clipped (x4),
  noisy (white noise `--noise-db` below the speech), a mismatched transcript (another speaker's),
  a partial transcript (its first half), a 60 s monologue (the reference repeated, with the
  matching transcript). Every code that fires is printed; a bad case counts as flagged when its
  own code fires, and as clean when no other fires;
- output loudness: the `local` engine clones each reference as fetched (the phone turns at -33
  to -37 LUFS, the phrases at about -22), segments leveled as the worker levels them (-16 LUFS);
  the spread of integrated loudness across voices, against the spread without leveling.

Targets: WER <= 15 %, every bad case flagged, no good case flagged, loudness spread <= 1 LU.
Exits 1 when one is missed. Figures measured on a loaded machine are indicative.

    pip install -e '.[transcription]'   # the model (the dev extra includes it)
    python -m bench.intake [--threads 1] [--noise-db 10] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench import downloads
from vocalis.audio import decode
from vocalis.worker.engines.base import SynthesisRequest
from vocalis.worker.engines.local import LocalEngine
from vocalis.worker.loudness import Leveler, integrated_loudness
from vocalis.worker.reference_checks import (
    RATE,
    Checks,
    check_reference,
    error_rate,
    frame_levels,
)
from vocalis.worker.transcription import Transcriber, Transcript

F64 = npt.NDArray[np.float64]
MAX_WER = 0.15
MAX_SPREAD_LU = 1.0
GOOD_LUFS = -20.0  # a sensible recording level (speech recorded sensibly sits at -14 to -26)
MAX_PEAK = 10 ** (-1 / 20)  # -1 dBFS: leveling a good reference never clips it
QUIET_DB = -18.0
CLIP_GAIN = 4.0  # +12 dB: 4-5 % of samples flat-topped; x8 garbled the phone speech for Whisper too
MONOLOGUE_S = 60.0
_FADE_S = 0.01
TEXT = "The studio opens at nine, so please bring the recordings before lunch."


@dataclass(frozen=True)
class Good:
    name: str
    audio: F64  # 16 kHz mono
    text: str


def good_references(refs: Sequence[downloads.Reference]) -> list[Good]:
    """Each speaker's clips joined back to back at a normal recording level."""
    goods = []
    for speaker, group in groupby(sorted(refs, key=lambda r: r.speaker), lambda r: r.speaker):
        clips = list(group)
        joined = np.concatenate([faded(decode(c.path, RATE).astype(np.float64)) for c in clips])
        gain_db = GOOD_LUFS - integrated_loudness(joined, RATE)
        gain = min(10 ** (gain_db / 20), MAX_PEAK / float(np.max(np.abs(joined))))
        text = " ".join(c.text.rstrip(".") + "." for c in clips)
        goods.append(Good(f"{speaker} ({len(clips)} clips)", joined * gain, text))
    return goods


def faded(x: F64) -> F64:
    """Fade the ends over 10 ms, so that joined clips do not click."""
    n = min(int(_FADE_S * RATE), len(x) // 2)
    ramp = np.linspace(0.0, 1.0, n)
    out = x.copy()
    out[:n] *= ramp
    out[len(out) - n :] *= ramp[::-1]
    return out


def noisy(x: F64, below_db: float) -> F64:
    """White noise `below_db` under the speech: under the RMS of the frames the checks count as
    speech (within 30 dB of the loudest), so the noise is set by the voice, not by pauses."""
    levels = frame_levels(x)
    speech_rms_db = 10 * np.log10(np.mean(10 ** (levels[levels > np.max(levels) - 30] / 10)))
    noise = np.random.default_rng(0).standard_normal(len(x))
    return x + noise * 10 ** ((speech_rms_db - below_db) / 20)


def bad_references(
    good: Good, others: Sequence[Good], noise_db: float
) -> dict[str, tuple[str, F64, str]]:
    """name -> (the code it must raise, audio, typed transcript), each with one defect."""
    words = good.text.split()
    other = next(o.text for o in others if o.name != good.name)
    repeats = int(np.ceil(MONOLOGUE_S / (len(good.audio) / RATE)))
    return {
        "quiet (-18 dB)": ("too_quiet", good.audio * 10 ** (QUIET_DB / 20), good.text),
        "clipped (x4)": ("clipped", np.clip(good.audio * CLIP_GAIN, -1, 1), good.text),
        f"noisy ({noise_db:g} dB)": ("too_noisy", noisy(good.audio, noise_db), good.text),
        "another's transcript": ("transcript_mismatch", good.audio, other),
        "half the transcript": (
            "transcript_mismatch",
            good.audio,
            " ".join(words[: len(words) // 2]),
        ),
        f"{MONOLOGUE_S:.0f} s monologue": (
            "too_long",
            np.tile(good.audio, repeats),
            " ".join([good.text] * repeats),
        ),
    }


def transcription(goods: Sequence[Good], model: Transcriber) -> tuple[float, list[Transcript]]:
    print("\n== transcription (Whisper base, int8) of the good references")
    edits = words = 0.0
    compute = audio_seconds = 0.0
    transcripts = []
    for good in goods:
        start = time.perf_counter()
        transcript = model.transcribe(good.audio.astype(np.float32))
        spent = time.perf_counter() - start
        wer = error_rate(good.text, transcript.text)
        n = len(good.text.split())
        seconds = len(good.audio) / RATE
        edits, words = edits + wer * n, words + n
        compute, audio_seconds = compute + spent, audio_seconds + seconds
        transcripts.append(transcript)
        print(f"{good.name:24s} {seconds:5.1f} s  WER {wer:6.1%}  RTF {spent / seconds:.2f}")
        print(f"    typed: {good.text}")
        print(f"    heard: {transcript.text}")
    total = edits / max(words, 1)
    print(f"overall: WER {total:.1%} over {words:.0f} words; RTF {compute / audio_seconds:.3f}")
    return total, transcripts


def describe(checks: Checks) -> str:
    wer = "-" if checks.word_error_rate is None else f"{checks.word_error_rate:.0%}"
    return (
        f"{checks.duration_seconds:5.1f} s {checks.loudness_lufs:6.1f} LUFS "
        f"SNR {checks.snr_db:4.1f} dB speech {checks.speech_seconds:4.1f} s "
        f"clipped {checks.clipped_share:.2%} WER {wer:>4s}"
    )


def verdicts(
    goods: Sequence[Good], model: Transcriber, transcripts: Sequence[Transcript], noise_db: float
) -> tuple[bool, bool]:
    """(every good reference clean and every bad one flagged, every bad one flagged with its
    own code alone)."""
    print("\n== reference checks (codes that fired; measures)")
    right = alone = True
    for good, transcript in zip(goods, transcripts, strict=True):
        checks = check_reference(good.audio, transcript, good.text)
        codes = [w.code for w in checks.warnings]
        right &= not codes
        print(f"good {good.name:37s} {'ok' if not codes else 'FLAGGED':8s} {codes}")
        print(f"     {'':37s} {describe(checks)}")
    for good, transcript in zip(goods, transcripts, strict=True):
        for name, (code, audio, typed) in bad_references(good, goods, noise_db).items():
            same_audio = audio is good.audio  # a transcript case: the audio was heard already
            heard = transcript if same_audio else model.transcribe(audio.astype(np.float32))
            checks = check_reference(audio, heard, typed)
            codes = [w.code for w in checks.warnings]
            flagged, only = code in codes, codes == [code]
            right &= flagged
            alone &= only
            verdict = ("flagged" if only else "flagged+") if flagged else "MISSED"
            print(f"bad  {good.name:16s} {name:20s} {verdict:8s} {codes}")
            print(f"     {'':37s} {describe(checks)}")
    return right, alone


def loudness_spread(refs: Sequence[downloads.Reference]) -> float:
    print("\n== output loudness across voices (local engine, references as fetched)")
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
    parser.add_argument(
        "--noise-db", type=float, default=10.0, help="the noisy case's noise, dB under the speech"
    )
    args = parser.parse_args(argv)
    refs = downloads.alsa_references() + downloads.pyannote_references(args.cache_dir)
    goods = good_references(refs)
    if len(goods) < 2:
        sys.exit("needs the references of two speakers at least (pyannote's call has two)")
    started = time.perf_counter()
    model = Transcriber.from_cache(args.cache_dir / "models", threads=args.threads)
    print(f"model assembled, verified and loaded in {time.perf_counter() - started:.1f} s")
    wer, transcripts = transcription(goods, model)
    checks_ok, alone = verdicts(goods, model, transcripts, args.noise_db)
    spread = loudness_spread(refs)
    passed = wer <= MAX_WER and checks_ok and spread <= MAX_SPREAD_LU
    print(
        f"\n{'PASS' if passed else 'FAIL'}: WER {wer:.1%} (<= {MAX_WER:.0%}), checks "
        f"{'right' if checks_ok else 'WRONG'} ("
        f"{'each bad case raised its own code alone' if alone else 'some bad case raised more'}"
        f"), spread {spread:.2f} LU (<= {MAX_SPREAD_LU} LU)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
