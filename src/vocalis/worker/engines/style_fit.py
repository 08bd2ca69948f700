"""Fitting a Kokoro style to a reference voice, through the voice matcher.

The stock packs are five Japanese speakers; a reference is anyone. A style here is a mixture of
the packs (softmax weights) plus an offset on the timbre half of the vector (Kokoro's decoder
reads dimensions 0-127; 128-255 drive duration and intonation, which the matcher and the pace
ratio already set). The search renders one calibration sentence per candidate with Kokoro, runs
it through the same matcher the job will use (source: the starting pack's calibration), embeds
it with the independent speaker encoder (speaker_encoder.py) and keeps what sounds most like
the reference to that encoder: a (1+λ) evolution strategy with step-size adaptation, seeded,
so the same reference, seed and budget always give the same style.

The winner is then checked on a sentence the search never heard (the passage's second): it is
kept only if at least half its gain over the starting pack holds there (REPLICATED). A search
that keeps the best of many noisy scores overrates its winner, and one sentence is a noisy
judge: bench.quality measured a fitted voice (alsa/A: 0.695 -> 0.711 in the search, 0.664 ->
0.665 on the unheard sentence) at 0.67 with the encoder and 0.62 held-out likeness on its
sentences where the starting pack had 0.73 and 0.77, and less natural too (DNSMOS SIG 2.99
against 3.32).

Cost: one render (~5 s of speech) plus matching and an embedding per candidate; RENDERS
candidates and the check take 50-55 s of one core. The result is cached with the reference's
analysis (profile_cache.py), so a voice pays it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vocalis.worker.engines.analysis import SAMPLE_RATE, VoiceProfile
from vocalis.worker.engines.bases import BaseVoice
from vocalis.worker.engines.calibration import PASSAGES
from vocalis.worker.engines.kokoro_base import KokoroBase
from vocalis.worker.engines.kokoro_model import STYLE_DIM
from vocalis.worker.engines.profile_cache import Arrays
from vocalis.worker.engines.speaker_encoder import SpeakerEncoder, cosine
from vocalis.worker.engines.voice_match import clone_target, transform

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

FIT_VERSION = 6  # the cache key: bump when the search or the model changes (6: validation)
# Candidates rendered per voice (the first is the starting pack itself). bench.quality: 20 and
# the check cost 50-55 CPU-s per voice with int8 convolutions (first use <= 90 is the target);
# 24 (before them, float: ~80 CPU-s) moved no mean across its target.
RENDERS = 20
POPULATION = 4  # candidates per generation
TIMBRE_DIMS = STYLE_DIM // 2  # Kokoro's decoder half
START_LOGIT = 4.0  # the starting pack's mixture logit (weight ~0.93 among five)
LOGIT_STEP = 1.0  # initial step of the mixture logits
OFFSET_STEP = 0.3  # initial step of the offset, in units of the packs' spread per dimension
GROW, SHRINK = 1.5, 0.8  # step-size adaptation: after a generation with / without a success
MAX_STEP = 1.0  # the step never grows past its start
# The offset stays within this many pack spreads of the mixture, per dimension. Unbounded, the
# search once walked to a style that the encoder liked and nobody could understand (bench.quality:
# Whisper heard 0 of 37 words): an encoder scores timbre, not speech, so the search must stay
# near styles that speak.
OFFSET_LIMIT = 1.0
VALIDATION_RENDERS = 2  # the winner and the start, on the second sentence
REPLICATED = 0.5  # the share of the search's gain the unheard sentence must confirm


@dataclass(frozen=True)
class FittedStyle:
    """A fitted style as its parameters; `style(packs)` rebuilds the vector."""

    pack: str  # the starting pack: its calibration is the matcher's source for this style
    logits: F64  # (len(packs),), over the packs in sorted-name order
    offset: F64  # (TIMBRE_DIMS,)
    score: float  # the encoder's similarity to the reference the fit reached
    start_score: float  # the starting pack's similarity (through the matcher)

    def style(self, packs: Mapping[str, F32]) -> F32:
        return mix(packs, self.logits, self.offset)

    def voice(self, packs: Mapping[str, F32], female: bool) -> BaseVoice:
        return BaseVoice(female=female, pack=self.pack, style=self.style(packs))

    def to_arrays(self) -> Arrays:
        return {
            "pack": np.array(self.pack),
            "logits": self.logits,
            "offset": self.offset,
            "scores": np.array([self.score, self.start_score]),
        }

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> FittedStyle:
        score, start = (float(v) for v in arrays["scores"])
        return cls(str(arrays["pack"]), arrays["logits"], arrays["offset"], score, start)


def mix(packs: Mapping[str, F32], logits: F64, offset: F64) -> F32:
    """Softmax(logits)-weighted sum of the packs (sorted by name), plus `offset` on the timbre
    half of every row."""
    stack = np.stack([packs[name] for name in sorted(packs)])  # (P, MAX_TOKENS, STYLE_DIM)
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    style = np.tensordot(weights, stack, axes=1)
    style[:, :TIMBRE_DIMS] += offset
    return style.astype(np.float32)


def fit_style(
    base: KokoroBase,
    encoder: SpeakerEncoder,
    reference_audio: F32,
    reference: VoiceProfile,
    language: str,
    start: BaseVoice,
    seed: int = 0,
    renders: int = RENDERS,
    progress: Callable[[float], None] = lambda fraction: None,
) -> FittedStyle:
    """Search a style that, through the matcher, sounds like `reference_audio` (SAMPLE_RATE) to
    `encoder`, in `renders` candidates and VALIDATION_RENDERS more; `progress` gets the share of
    renders done and may raise to stop the search."""
    assert start.pack is not None
    packs = base.model.packs
    names = sorted(packs)
    source = base.calibration(language, start).profile
    target = clone_target(reference, source)
    sentence, unheard = _two_sentences(PASSAGES[language])
    wanted = encoder.embed(reference_audio, SAMPLE_RATE)
    # Offsets are scaled per dimension by how much the packs differ there.
    spread = np.stack([packs[n][:, :TIMBRE_DIMS] for n in names]).std(axis=(0, 1)) + 1e-3

    def similarity(logits: F64, offset: F64, text: str = sentence) -> float:
        voice = BaseVoice(start.female, start.pack, mix(packs, logits, offset))
        spoken = base.speaker(language, voice, 1.0).speak(text)
        matched = transform(spoken, source, target, base.f0_tracker)
        return cosine(encoder.embed(matched, SAMPLE_RATE), wanted)

    rng = np.random.default_rng(seed)
    total = renders + VALIDATION_RENDERS
    start_logits = np.where(np.array(names) == start.pack, START_LOGIT, 0.0)
    best_logits, best_offset = start_logits, np.zeros(TIMBRE_DIMS)
    best = start_score = similarity(best_logits, best_offset)
    done = 1
    progress(done / total)
    step = 1.0
    while done < renders:
        improved = False
        for _ in range(min(POPULATION, renders - done)):
            logits, offset = propose(rng, best_logits, best_offset, step, spread)
            score = similarity(logits, offset)
            done += 1
            progress(done / total)
            if score > best:
                best, best_logits, best_offset, improved = score, logits, offset, True
        step = min(step * GROW, MAX_STEP) if improved else step * SHRINK
    start_style = FittedStyle(
        start.pack, start_logits, np.zeros(TIMBRE_DIMS), start_score, start_score
    )
    if best == start_score:
        progress(1.0)
        return start_style
    checked = similarity(best_logits, best_offset, unheard)
    progress((total - 1) / total)
    start_checked = similarity(start_logits, np.zeros(TIMBRE_DIMS), unheard)
    progress(1.0)
    log.info(
        "style fit from %s: similarity %.3f -> %.3f; on an unheard sentence %.3f -> %.3f",
        start.pack,
        start_score,
        best,
        start_checked,
        checked,
    )
    if checked - start_checked < REPLICATED * (best - start_score):
        return start_style
    return FittedStyle(start.pack, best_logits, best_offset, best, start_score)


def propose(
    rng: np.random.Generator, logits: F64, offset: F64, step: float, spread: F64
) -> tuple[F64, F64]:
    """A candidate around (logits, offset): Gaussian steps, the offset kept within
    OFFSET_LIMIT pack spreads per dimension."""
    new_logits = logits + step * LOGIT_STEP * rng.standard_normal(len(logits))
    new_offset = offset + step * OFFSET_STEP * spread * rng.standard_normal(len(offset))
    return new_logits, np.clip(new_offset, -OFFSET_LIMIT * spread, OFFSET_LIMIT * spread)


def _two_sentences(passage: str) -> tuple[str, str]:
    """The passage's first sentence and the rest; a passage of one sentence is cut at the comma
    nearest its middle."""
    for end in (". ", "。", "! ", "? "):
        first, _, rest = passage.partition(end)
        if rest.strip():
            return first + end.strip(), rest.strip()
    commas = [i for i, ch in enumerate(passage) if ch in ",、，"]
    if not commas:
        return passage, passage
    cut = min(commas, key=lambda i: abs(i - len(passage) / 2)) + 1
    return passage[:cut].strip(), passage[cut:].strip()
