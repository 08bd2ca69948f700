"""The offline `local` engine: a base synthesiser's speech reshaped by the WORLD voice matcher.

Pipeline per job: pick the language (the request's, or guessed from the text's script) and the
base (bases.py: `espeak`, or `kokoro` where it speaks the language), build a target voice (from
the reference's cached analysis, or from the description's keywords), choose the base's own
voice nearest to it - for Kokoro and a reference, a style fitted once per voice (style_fit.py) -
then for each sentence chunk: base speech -> WORLD analysis -> F0 map, formant warp, long-term
EQ, breathiness -> resynthesis. The chunks are handed over one by one as segments, each
loudness-matched, peak-limited and followed by a short pause, so the first sentence can play
while the rest renders.

What it reproduces is the *kind* of voice - pitch, register, brightness, breathiness,
loudness, pace - not the speaker's identity; espeak's phonetics remain robotic, Kokoro's
natural but with its stock speakers' accent.

Output is 22 050 Hz, espeak-ng's native rate and the matcher's analysis grid.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines import espeak, kokoro_voices
from vocalis.worker.engines.analysis import SAMPLE_RATE, VoiceProfile
from vocalis.worker.engines.base import Progress, SynthesisError, SynthesisRequest
from vocalis.worker.engines.bases import (
    DEFAULT_BASES,
    Base,
    EspeakBase,
    Speaker,
    checked_defaults,
    choose_base,
)
from vocalis.worker.engines.kokoro_model import shared_model
from vocalis.worker.engines.kokoro_voices import KokoroVoices
from vocalis.worker.engines.mastering import (
    PHRASE_PAUSE_S,
    SENTENCE_PAUSE_S,
    finish_chunk,
    master,
    pause,
)
from vocalis.worker.engines.pace import pace_ratio
from vocalis.worker.engines.profile_cache import ProfileCache, cache_key
from vocalis.worker.engines.reference import ReferenceVoice, analyse, decode
from vocalis.worker.engines.text import (
    detect_language,
    ends_sentence,
    split_sentences,
    with_short_lead,
)
from vocalis.worker.engines.voice_design import design, design_target
from vocalis.worker.engines.voice_match import VoiceTarget, clone_target, transform

log = logging.getLogger(__name__)

# A reference whose median F0 is above this is mapped from a female base voice: its formants
# already sit higher, so the warp and the pitch shift have less far to go.
FEMALE_SOURCE_HZ = 165.0
# Chunks short enough that cancel is honoured within a second or two of compute, long enough
# for natural sentence intonation. CJK scripts carry about three times more per character.
LATIN_CHUNK_CHARS = 240
CJK_CHUNK_CHARS = 80
# The first chunk is what a listener waits for: about a sentence on espeak, well under a second
# of compute (each base scales it by its lead_share).
LATIN_LEAD_CHARS = 80
CJK_LEAD_CHARS = 30
_CJK = frozenset({"Chinese", "Japanese", "Korean"})
# Of a job's progress bar, the share taken by fitting a new voice's style (the rest: speaking).
FIT_SHARE = 0.6


@dataclass(frozen=True)
class _Plan:
    speaker: Speaker
    source: VoiceProfile
    target: VoiceTarget
    pace: float


class LocalEngine:
    """CPU-only and offline: the engine `vocalis serve` runs by default."""

    name = "local"
    sample_rate = SAMPLE_RATE
    languages: tuple[str, ...] = LANGUAGES

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        cache_size: int = 32,
        threads: int = 1,
        style_renders: int | None = None,
        style_seed: int = 0,
        default_bases: Mapping[str, str] | None = None,
    ) -> None:
        """`cache_dir` keeps reference analyses and fitted styles across restarts (.npz files,
        per voice); `threads` is what Kokoro's onnxruntime may use; `style_renders` bounds the
        style fit (None: style_fit.RENDERS; 0: no fitting, the nearest stock pack);
        `default_bases` (language -> base) replaces bases.DEFAULT_BASES for jobs that name no
        base, e.g. {"English": "kokoro"}."""
        directory = Path(cache_dir) if cache_dir else None
        self.profiles = ProfileCache(cache_size, directory)
        self.espeak = EspeakBase()
        self.kokoro = KokoroVoices(directory, cache_size, threads, style_renders, style_seed)
        self.available_bases = frozenset(
            {"espeak", "kokoro"} if kokoro_voices.installed() else {"espeak"}
        )
        self.default_bases = checked_defaults(
            DEFAULT_BASES if default_bases is None else default_bases
        )
        # A default base serves most jobs: Kokoro loads now (~3 CPU-s: verify, rewrite, start
        # onnxruntime) in the background, so no user's first audio waits on it; a job that needs
        # it sooner waits on the same lock. Otherwise it loads on its first job.
        self.preloading: threading.Thread | None = None
        if "kokoro" in self.available_bases and "kokoro" in self.default_bases.values():
            self.preloading = threading.Thread(target=self._preload, daemon=True)
            self.preloading.start()

    def _preload(self) -> None:
        try:
            shared_model(self.kokoro.threads)
        except SynthesisError as exc:  # the job that needs the model reports it to its user
            log.warning("Kokoro did not load: %s", exc)

    @property
    def bases(self) -> dict[str, tuple[str, ...]]:
        """The installed bases and the languages each speaks (in protocol order)."""
        offered: dict[str, frozenset[str]] = {"espeak": self.espeak.languages}
        if "kokoro" in self.available_bases:
            offered["kokoro"] = self.kokoro.base.languages
        return {
            name: tuple(language for language in LANGUAGES if language in spoken)
            for name, spoken in offered.items()
        }

    def base(self, name: str) -> Base:
        return self.kokoro.base if name == "kokoro" else self.espeak

    def synthesize(self, request: SynthesisRequest, progress: Progress) -> Iterator[np.ndarray]:
        """Speak request.text in the requested voice, one segment per sentence chunk.

        Each segment is mastered on its own (loudness, peaks) and followed by the pause before
        the next, so segments never change once handed over; progress follows each chunk.
        """
        language = resolve_language(request.language, request.text)
        requested = request.options.get("base")
        base = self.base(choose_base(requested, language, self.available_bases, self.default_bases))
        if request.kind == "clone":
            plan, start = self._clone_plan(request, language, base, progress)
        elif request.kind == "design":
            plan, start = self._design_plan(request, language, base), 0.0
        else:
            raise SynthesisError(f"The local engine cannot run {request.kind!r} jobs.")
        cjk = language in _CJK
        chunks = with_short_lead(
            split_sentences(request.text, CJK_CHUNK_CHARS if cjk else LATIN_CHUNK_CHARS),
            round((CJK_LEAD_CHARS if cjk else LATIN_LEAD_CHARS) * base.lead_share),
        )
        if not chunks:
            raise SynthesisError("There is no text to speak.")
        progress(start)  # a cancel that arrived during the reference analysis stops here
        total = sum(len(chunk) for chunk in chunks)
        done, produced = 0, False
        for index, chunk in enumerate(chunks):
            spoken = plan.speaker.speak(chunk)
            spoken_chunk = transform(spoken, plan.source, plan.target, base.f0_tracker)
            audio = finish_chunk(spoken_chunk)
            done += len(chunk)
            if len(audio):
                segment = master(audio, plan.target.loudness_lufs)
                if index + 1 < len(chunks):
                    rest = SENTENCE_PAUSE_S if ends_sentence(chunk) else PHRASE_PAUSE_S
                    segment = np.concatenate([segment, pause(rest / plan.pace)])
                produced = True
                yield segment
            progress(start + (1 - start) * done / total)  # raises JobCancelled between chunks
        if not produced:
            raise SynthesisError("The text holds nothing the local engine can pronounce.")

    def reference_voice(self, path: Path, transcript: str) -> ReferenceVoice:
        """The (cached) analysis of a reference recording."""
        return self.profiles.get_or_create(
            self._key(path, transcript), lambda: analyse(decode(path), transcript)
        )

    def _key(self, path: Path, transcript: str) -> str:
        try:
            return cache_key(path, transcript)
        except OSError as exc:
            raise SynthesisError("The reference audio file could not be read.") from exc

    def _clone_plan(
        self, request: SynthesisRequest, language: str, base: Base, progress: Progress
    ) -> tuple[_Plan, float]:
        if request.ref_audio_path is None:
            raise SynthesisError("A clone job needs reference audio.")
        transcript = request.ref_text or ""
        reference = self.reference_voice(request.ref_audio_path, transcript)
        female = reference.profile.f0_median_hz > FEMALE_SOURCE_HZ
        voice = base.stock_voice(reference.profile.f0_median_hz, female)
        start = 0.0
        if base.name == "kokoro":
            voice, fitted = self.kokoro.voice(
                self._key(request.ref_audio_path, transcript),
                request.ref_audio_path,
                reference,
                language,
                voice,
                lambda fraction: progress(FIT_SHARE * fraction),
            )
            start = FIT_SHARE if fitted else 0.0
        source = base.calibration(language, voice).profile
        # Pace is measured against the base speaking the *reference's* language (when it can),
        # then applied to the output language, so it transfers across languages.
        pace_language = reference.language if reference.language in base.languages else language
        own = base.calibration(pace_language, voice)
        pace = pace_ratio(
            reference.syllables,
            reference.profile.articulation_seconds,
            own.syllables,
            own.profile.articulation_seconds,
        )
        pace *= _speed(request)
        plan = _Plan(
            base.speaker(language, voice, pace),
            source,
            clone_target(reference.profile, source),
            pace,
        )
        return plan, start

    def _design_plan(self, request: SynthesisRequest, language: str, base: Base) -> _Plan:
        designed = design(request.instruct or "")
        voice = base.stock_voice(designed.f0_hz, designed.female)
        source = base.calibration(language, voice).profile
        pace = designed.pace * _speed(request)
        return _Plan(
            base.speaker(language, voice, pace), source, design_target(designed, source), pace
        )


def _speed(request: SynthesisRequest) -> float:
    """A caller's speed (OpenAI's `speed`, 0.25-4) scales the voice's own pace: the base's
    speaking rate and the pauses (espeak's rate limits bound what it can do)."""
    speed = request.options.get("speed", 1.0)
    if not isinstance(speed, int | float) or isinstance(speed, bool):
        return 1.0
    return min(max(float(speed), 0.25), 4.0)


def resolve_language(language: str, text: str) -> str:
    """The request's language, or for "Auto" (or anything unknown) a guess from the text."""
    return language if language in espeak.VOICES else detect_language(text)
