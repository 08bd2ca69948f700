"""The offline `local` engine: espeak-ng speech reshaped by the WORLD voice matcher.

Pipeline per job: pick the language (the request's, or guessed from the text's script), build
a target voice (from the reference's cached analysis, or from the description's keywords),
choose espeak's male or female variant nearest to it, then for each sentence chunk: espeak ->
WORLD analysis -> F0 map, formant warp, long-term EQ, breathiness -> resynthesis. The chunks
are handed over one by one as segments, each loudness-matched, peak-limited and followed by a
short pause, so the first sentence can play while the rest renders.

What it reproduces is the *kind* of voice - pitch, register, brightness, breathiness,
loudness, pace - not the speaker's identity; espeak's phonetics remain robotic.

Output is 22 050 Hz, espeak-ng's native rate: resampling to 24 kHz would add cost and no
content (espeak has nothing above 11 kHz).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines import espeak
from vocalis.worker.engines.analysis import SAMPLE_RATE, VoiceProfile
from vocalis.worker.engines.base import Progress, SynthesisError, SynthesisRequest
from vocalis.worker.engines.calibration import calibration
from vocalis.worker.engines.mastering import SENTENCE_PAUSE_S, finish_chunk, master, pause
from vocalis.worker.engines.pace import pace_ratio
from vocalis.worker.engines.profile_cache import ProfileCache, cache_key
from vocalis.worker.engines.reference import ReferenceVoice, analyse, decode
from vocalis.worker.engines.text import detect_language, split_sentences, with_short_lead
from vocalis.worker.engines.voice_design import design, design_target
from vocalis.worker.engines.voice_match import VoiceTarget, clone_target, transform

# A reference whose median F0 is above this is mapped from espeak's female variant: its
# formants already sit higher, so the warp and the pitch shift have less far to go.
FEMALE_SOURCE_HZ = 165.0
# Chunks short enough that cancel is honoured within a second or two of compute, long enough
# for natural sentence intonation. CJK scripts carry about three times more per character.
LATIN_CHUNK_CHARS = 240
CJK_CHUNK_CHARS = 80
# The first chunk is what a listener waits for: about a sentence, well under a second of compute.
LATIN_LEAD_CHARS = 80
CJK_LEAD_CHARS = 30
_CJK = frozenset({"Chinese", "Japanese", "Korean"})


@dataclass(frozen=True)
class _Plan:
    voice: espeak.Voice
    source: VoiceProfile
    target: VoiceTarget
    pace: float


class LocalEngine:
    """CPU-only and offline: the engine `vocalis serve` runs by default."""

    name = "local"
    sample_rate = SAMPLE_RATE
    languages: tuple[str, ...] = LANGUAGES

    def __init__(self, cache_dir: str | Path | None = None, cache_size: int = 32) -> None:
        """`cache_dir` keeps reference analyses across restarts (.npz files, one per voice)."""
        self.profiles = ProfileCache(cache_size, Path(cache_dir) if cache_dir else None)

    def synthesize(self, request: SynthesisRequest, progress: Progress) -> Iterator[np.ndarray]:
        """Speak request.text in the requested voice, one segment per sentence chunk.

        Each segment is mastered on its own (loudness, peaks) and followed by the pause before
        the next, so segments never change once handed over; progress follows each chunk.
        """
        language = resolve_language(request.language, request.text)
        plan = self._clone_plan(request, language) if request.kind == "clone" else None
        if plan is None:
            if request.kind != "design":
                raise SynthesisError(f"The local engine cannot run {request.kind!r} jobs.")
            plan = self._design_plan(request, language)
        plan = _at_speed(plan, request.options.get("speed"))
        cjk = language in _CJK
        chunks = with_short_lead(
            split_sentences(request.text, CJK_CHUNK_CHARS if cjk else LATIN_CHUNK_CHARS),
            CJK_LEAD_CHARS if cjk else LATIN_LEAD_CHARS,
        )
        if not chunks:
            raise SynthesisError("There is no text to speak.")
        progress(0.0)  # a cancel that arrived during the reference analysis stops here
        total = sum(len(chunk) for chunk in chunks)
        done, produced = 0, False
        for index, chunk in enumerate(chunks):
            spoken_chunk = transform(espeak.speak(chunk, plan.voice), plan.source, plan.target)
            audio = finish_chunk(spoken_chunk)
            done += len(chunk)
            if len(audio):
                segment = master(audio, plan.target.loudness_lufs)
                if index + 1 < len(chunks):
                    segment = np.concatenate([segment, pause(SENTENCE_PAUSE_S / plan.pace)])
                produced = True
                yield segment
            progress(done / total)  # raises JobCancelled: stop between chunks
        if not produced:
            raise SynthesisError("The text holds nothing the local engine can pronounce.")

    def reference_voice(self, path: Path, transcript: str) -> ReferenceVoice:
        """The (cached) analysis of a reference recording."""
        try:
            key = cache_key(path, transcript)
        except OSError as exc:
            raise SynthesisError("The reference audio file could not be read.") from exc
        return self.profiles.get_or_create(key, lambda: analyse(decode(path), transcript))

    def _clone_plan(self, request: SynthesisRequest, language: str) -> _Plan:
        if request.ref_audio_path is None:
            raise SynthesisError("A clone job needs reference audio.")
        reference = self.reference_voice(request.ref_audio_path, request.ref_text or "")
        female = reference.profile.f0_median_hz > FEMALE_SOURCE_HZ
        source = calibration(language, female).profile
        # Pace is measured against espeak speaking the *reference's* language, then applied to
        # the output language, so it transfers across languages.
        espeak_pace = calibration(reference.language, female)
        pace = pace_ratio(
            reference.syllables,
            reference.profile.articulation_seconds,
            espeak_pace.syllables,
            espeak_pace.profile.articulation_seconds,
        )
        voice = espeak.Voice(language, female=female, rate_wpm=_rate(pace))
        return _Plan(voice, source, clone_target(reference.profile, source), pace)

    def _design_plan(self, request: SynthesisRequest, language: str) -> _Plan:
        designed = design(request.instruct or "")
        source = calibration(language, designed.female).profile
        voice = espeak.Voice(language, female=designed.female, rate_wpm=_rate(designed.pace))
        return _Plan(voice, source, design_target(designed, source), designed.pace)


def resolve_language(language: str, text: str) -> str:
    """The request's language, or for "Auto" (or anything unknown) a guess from the text."""
    return language if language in espeak.VOICES else detect_language(text)


def _at_speed(plan: _Plan, speed: object) -> _Plan:
    """A caller's speed (OpenAI's `speed`, 0.25-4) scales the voice's own pace: espeak's rate
    and the pauses; espeak's rate limits bound what it can do."""
    if not isinstance(speed, int | float) or isinstance(speed, bool) or speed == 1:
        return plan
    pace = plan.pace * min(max(float(speed), 0.25), 4.0)
    voice = dataclasses.replace(plan.voice, rate_wpm=_rate(pace))
    return dataclasses.replace(plan, voice=voice, pace=pace)


def _rate(pace: float) -> int:
    rate = round(espeak.DEFAULT_RATE_WPM * pace)
    return min(max(rate, espeak.MIN_RATE_WPM), espeak.MAX_RATE_WPM)
