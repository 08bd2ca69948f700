"""The real `local` engine: espeak-ng + WORLD voice matching, measured on its actual output.

References are made here: espeak speech re-pitched and formant-warped with WORLD, written as
files, so every clone test has a known target pitch and loudness to be measured against.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyworld
import soundfile as sf
from scipy.signal import resample_poly

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines import espeak, load_engine
from vocalis.worker.engines.analysis import CODEBOOK_BANDS, loudness
from vocalis.worker.engines.base import (
    JobCancelled,
    SynthesisError,
    SynthesisRequest,
    synthesize_whole,
)
from vocalis.worker.engines.calibration import PASSAGES
from vocalis.worker.engines.kana import to_kana
from vocalis.worker.engines.local import LocalEngine, resolve_language
from vocalis.worker.engines.mastering import master
from vocalis.worker.engines.pace import syllables
from vocalis.worker.engines.pitch import track_f0

RATE = LocalEngine.sample_rate
SAMPLES: dict[str, str] = {
    "English": "The garden is full of flowers this morning.",
    "Chinese": "今天早上花园里开满了花。",
    "Japanese": "今朝、庭は花でいっぱいです。",
    "Korean": "오늘 아침 정원에 꽃이 가득합니다.",
    "German": "Der Garten ist heute Morgen voller Blumen.",
    "French": "Le jardin est plein de fleurs ce matin.",
    "Russian": "Сегодня утром сад полон цветов.",
    "Portuguese": "O jardim está cheio de flores esta manhã.",
    "Spanish": "El jardín está lleno de flores esta mañana.",
    "Italian": "Il giardino è pieno di fiori stamattina.",
}
ENGLISH = "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow."


def median_f0(audio: np.ndarray, rate: int) -> float:
    f0, _ = pyworld.harvest(audio.astype(np.float64), rate, f0_floor=50, f0_ceil=700)
    return float(np.median(f0[f0 > 0]))


def semitones(a: float, b: float) -> float:
    return float(12 * np.log2(a / b))


def no_progress(fraction: float) -> None:
    return None


def make_reference(path: Path, f0_hz: float, warp: float, lufs: float) -> Path:
    """espeak's English passage moved to median F0 `f0_hz`, formants scaled by `warp`, at
    `lufs`, written as a 16 kHz WAV (so decoding must resample)."""
    audio = espeak.speak(PASSAGES["English"], espeak.Voice("English")).astype(np.float64)
    f0, times = pyworld.harvest(audio, RATE, f0_floor=50, f0_ceil=400)
    envelope = pyworld.cheaptrick(audio, f0, times, RATE)
    aperiodicity = pyworld.d4c(audio, f0, times, RATE)
    voiced = f0 > 0
    f0 = np.where(voiced, f0 * f0_hz / np.median(f0[voiced]), 0.0)
    bins = np.arange(envelope.shape[1])
    envelope = np.stack([np.interp(bins / warp, bins, frame) for frame in envelope])
    out = pyworld.synthesize(f0, envelope, aperiodicity, RATE)
    out *= 10 ** ((lufs - loudness(out)) / 20)
    sf.write(path, resample_poly(out, 320, 441), 16_000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def engine() -> LocalEngine:
    # The matcher on the espeak base (English defaults to Kokoro: test_kokoro.py has its tests).
    return LocalEngine(default_bases={})


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("references")
    return {
        "low": make_reference(folder / "low.wav", 95.0, 0.95, -28.0),
        "high": make_reference(folder / "high.wav", 240.0, 1.15, -17.0),
    }


def clone(text: str, reference: Path, language: str = "English") -> SynthesisRequest:
    return SynthesisRequest(
        kind="clone",
        text=text,
        language=language,
        ref_audio_path=reference,
        ref_text=PASSAGES["English"],
    )


def design(text: str, instruct: str, language: str = "English") -> SynthesisRequest:
    return SynthesisRequest(kind="design", text=text, language=language, instruct=instruct)


def test_registry_builds_the_local_engine_and_rejects_unknown_names() -> None:
    engine = load_engine("local")
    assert isinstance(engine, LocalEngine)
    assert engine.name == "local" and engine.sample_rate == 22_050
    assert set(engine.languages) == set(LANGUAGES)
    with pytest.raises(ValueError, match="unknown engine"):
        load_engine("nope")


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_every_language_speaks_for_a_plausible_time(engine: LocalEngine, language: str) -> None:
    text = SAMPLES[language]
    request = SynthesisRequest(kind="design", text=text, language=language, instruct="a woman")
    audio = synthesize_whole(engine, request, no_progress)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() <= 1.0
    seconds = len(audio) / RATE
    count = syllables(text, language)
    # Human speech runs at roughly 3-9 syllables (or morae) per second.
    assert count / 10 < seconds < count / 2.5, (language, seconds, count)
    assert loudness(audio) > -30  # not silent: mastered to the design's -20 LUFS


@pytest.mark.slow
def test_auto_language_follows_the_script(engine: LocalEngine) -> None:
    assert resolve_language("Auto", SAMPLES["Russian"]) == "Russian"
    assert resolve_language("Auto", SAMPLES["Japanese"]) == "Japanese"
    assert resolve_language("French", SAMPLES["Russian"]) == "French"  # the user's pick wins

    def seconds(language: str) -> float:
        request = SynthesisRequest(
            kind="design", text=SAMPLES["Russian"], language=language, instruct="a man"
        )
        return len(synthesize_whole(engine, request, no_progress)) / RATE

    # espeak is not bit-exact between calls (its flutter state persists), so compare lengths:
    # the English voice spells unknown Cyrillic letters out and takes far longer.
    auto, russian, english = seconds("Auto"), seconds("Russian"), seconds("English")
    assert auto == pytest.approx(russian, rel=0.05)
    assert abs(english - russian) > 0.2 * russian


def test_japanese_kanji_are_read_not_spelled() -> None:
    # Spelled out, each kanji becomes "Chinese letter" (~0.7 s); read, the sentence is ~2 s.
    kanji = espeak.speak("東京は大きい都市です。", espeak.Voice("Japanese"))
    assert len(kanji) / espeak.SAMPLE_RATE < 3.0


@pytest.mark.slow
def test_clone_follows_the_reference_pitch(
    engine: LocalEngine, references: dict[str, Path]
) -> None:
    low = synthesize_whole(engine, clone(ENGLISH, references["low"]), no_progress)
    high = synthesize_whole(engine, clone(ENGLISH, references["high"]), no_progress)
    low_f0, high_f0 = median_f0(low, RATE), median_f0(high, RATE)
    assert abs(semitones(low_f0, 95.0)) < 1.0, low_f0
    assert abs(semitones(high_f0, 240.0)) < 1.0, high_f0
    # And it is the reference, not a fixed voice: raw espeak sits near 100 Hz.
    assert semitones(high_f0, low_f0) > 12


@pytest.mark.slow
def test_clone_matches_the_reference_loudness(
    engine: LocalEngine, references: dict[str, Path]
) -> None:
    for name, lufs in (("low", -28.0), ("high", -17.0)):
        audio = synthesize_whole(engine, clone(ENGLISH, references[name]), no_progress)
        assert abs(loudness(audio) - lufs) < 1.0, (name, loudness(audio))
        assert np.abs(audio).max() <= 10 ** (-1 / 20) + 1e-6  # limited to -1 dBFS


@pytest.mark.slow
def test_clone_works_across_languages(engine: LocalEngine, references: dict[str, Path]) -> None:
    audio = synthesize_whole(
        engine, clone(SAMPLES["German"], references["high"], "German"), no_progress
    )
    assert abs(semitones(median_f0(audio, RATE), 240.0)) < 1.0


def test_each_chunk_is_handed_over_as_a_finished_segment(engine: LocalEngine) -> None:
    text = "Good morning to you all. This second sentence is longer, so it goes in a second chunk."
    calls: list[float] = []

    def record(fraction: float) -> None:
        calls.append(fraction)

    segments = engine.synthesize(design(text, "a man"), record)
    first = next(segments)
    assert calls == [0.0]  # handed over before the next chunk is even spoken
    rest = list(segments)
    assert len(rest) == 1 and calls[-1] == 1.0  # the short lead, then the rest of the text
    tenth = RATE // 10
    assert not np.any(first[-tenth:])  # the pause before the next sentence travels with it
    assert np.any(rest[-1][-tenth:])  # the last segment ends with speech, not a pause
    for segment in (first, *rest):  # each mastered on its own
        assert segment.dtype == np.float32 and 0.1 < np.abs(segment).max() <= 10 ** (-1 / 20)


def test_cancel_stops_between_chunks(engine: LocalEngine) -> None:
    calls: list[float] = []

    def cancel_on_second(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 2:
            raise JobCancelled

    text = " ".join(
        f"This is sentence number {n}, long enough to be its own chunk." for n in range(40)
    )
    request = SynthesisRequest(kind="design", text=text, language="English", instruct="a man")
    with pytest.raises(JobCancelled):
        synthesize_whole(engine, request, cancel_on_second)
    # 0.0 once planned, then one report per chunk: cancelled after the first of many chunks.
    assert len(calls) == 2 and calls[0] == 0.0 and 0 < calls[1] < 0.5


@pytest.mark.slow
def test_progress_rises_to_one(engine: LocalEngine) -> None:
    calls: list[float] = []

    def record(fraction: float) -> None:
        calls.append(fraction)

    text = "First sentence here. " * 30
    request = SynthesisRequest(kind="design", text=text, language="English", instruct="a man")
    synthesize_whole(engine, request, record)
    assert len(calls) >= 3 and calls == sorted(calls) and calls[0] == 0.0 and calls[-1] == 1.0


@pytest.mark.parametrize(
    "content",
    [b"", b"RIFF\x00\x00\x00\x00WAVEfmt garbage", b"just some text, not audio at all\n" * 50],
    ids=["empty", "broken-wav", "text"],
)
def test_a_reference_that_does_not_decode_is_a_synthesis_error(
    engine: LocalEngine, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "reference.wav"
    path.write_bytes(content)
    with pytest.raises(SynthesisError, match="reference"):
        synthesize_whole(engine, clone("Hello.", path), no_progress)


def test_text_with_nothing_to_pronounce_is_a_synthesis_error(engine: LocalEngine) -> None:
    with pytest.raises(SynthesisError, match="nothing"):
        synthesize_whole(engine, design("...", "a man"), no_progress)


def test_silent_and_missing_references_are_synthesis_errors(
    engine: LocalEngine, tmp_path: Path
) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(RATE * 2), RATE)
    with pytest.raises(SynthesisError, match="No speech"):
        synthesize_whole(engine, clone("Hello.", silent), no_progress)
    with pytest.raises(SynthesisError, match="could not be read"):
        synthesize_whole(engine, clone("Hello.", tmp_path / "missing.wav"), no_progress)


@pytest.mark.slow
def test_reference_analysis_is_cached_by_content(
    references: dict[str, Path], tmp_path: Path
) -> None:
    engine = LocalEngine(cache_dir=tmp_path / "cache")
    copy = tmp_path / "same-bytes-other-name.wav"
    copy.write_bytes(references["low"].read_bytes())
    first = engine.reference_voice(references["low"], "words")
    assert (engine.profiles.hits, engine.profiles.misses) == (0, 1)
    assert engine.reference_voice(copy, "words") is first
    assert (engine.profiles.hits, engine.profiles.misses) == (1, 1)
    engine.reference_voice(copy, "other words")  # the transcript sets the pace: a new entry
    assert engine.profiles.misses == 2
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2

    restarted = LocalEngine(cache_dir=tmp_path / "cache")
    again = restarted.reference_voice(copy, "words")
    assert (restarted.profiles.hits, restarted.profiles.misses) == (1, 0)
    assert again.profile.f0_median_hz == pytest.approx(first.profile.f0_median_hz)
    assert np.allclose(again.profile.envelope_db, first.profile.envelope_db)
    assert first.profile.frames_db.shape[1] == CODEBOOK_BANDS
    assert np.allclose(again.profile.frames_db, first.profile.frames_db, atol=1e-4)


@pytest.mark.slow
def test_clone_pace_follows_a_fast_reference(engine: LocalEngine, tmp_path: Path) -> None:
    slow_source = espeak.speak(PASSAGES["English"], espeak.Voice("English", rate_wpm=130))
    fast_source = espeak.speak(PASSAGES["English"], espeak.Voice("English", rate_wpm=240))
    durations = {}
    for name, audio in (("slow", slow_source), ("fast", fast_source)):
        path = tmp_path / f"{name}.wav"
        sf.write(path, audio, RATE)
        out = synthesize_whole(engine, clone(ENGLISH, path), no_progress)
        durations[name] = len(out) / RATE
    assert durations["fast"] < 0.8 * durations["slow"], durations


@pytest.mark.slow
def test_design_words_move_pitch_and_loudness(engine: LocalEngine) -> None:
    def speak(instruct: str) -> np.ndarray:
        request = SynthesisRequest(
            kind="design", text=ENGLISH, language="English", instruct=instruct
        )
        return synthesize_whole(engine, request, no_progress)

    deep, child = speak("a deep male voice"), speak("a young child, high pitched")
    assert semitones(median_f0(child, RATE), median_f0(deep, RATE)) > 12
    quiet, loud = speak("a soft quiet woman"), speak("a loud powerful woman")
    assert loudness(loud) - loudness(quiet) > 6


def test_design_whisper_has_no_pitch(engine: LocalEngine) -> None:
    def voiced_share(instruct: str) -> float:
        request = SynthesisRequest(
            kind="design", text=ENGLISH, language="English", instruct=instruct
        )
        audio = synthesize_whole(engine, request, no_progress).astype(np.float64)
        f0, _ = pyworld.dio(audio, RATE, f0_floor=50, f0_ceil=700)
        return float(np.mean(f0 > 0))

    spoken, whispered = voiced_share("a woman"), voiced_share("a woman, whispering")
    assert spoken > 0.4 and whispered < 0.25 * spoken, (spoken, whispered)


# -- the parts, on signals with known answers -------------------------------------------------


def test_kana_reading_uses_pronunciation() -> None:
    pytest.importorskip("janome")
    assert to_kana("東京は大きい") == "トーキョーワオーキイ"  # は as "wa", long vowels as ー
    assert to_kana("iPhoneは") == "iPhoneワ"


def test_pitch_tracker_follows_a_glide_and_finds_silence() -> None:
    seconds = 1.0
    t = np.arange(int(RATE * seconds)) / RATE
    f0_true = 110 * 2 ** (t / seconds)  # one octave up over a second, like a question
    phase = 2 * np.pi * np.cumsum(f0_true) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    audio = np.concatenate([voice, np.zeros(RATE // 2)]) * 0.3
    f0 = track_f0(audio, RATE, 5.0, 50.0, 700.0)
    frames = np.arange(len(f0)) * 0.005
    inside = (frames > 0.05) & (frames < seconds - 0.05)
    truth = 110 * 2 ** (frames[inside] / seconds)
    assert np.all(f0[inside] > 0)
    assert np.median(np.abs(np.log2(f0[inside] / truth)) * 12) < 0.3  # semitones
    assert np.all(f0[frames > seconds + 0.05] == 0)


def test_master_hits_the_loudness_and_never_the_ceiling() -> None:
    rng = np.random.default_rng(0)
    audio = rng.normal(0, 0.05, RATE * 3) * np.sin(np.linspace(0, 30, RATE * 3)) ** 2
    audio[RATE] = 0.99  # a lone spike that loudness gain would push far past full scale
    out = master(audio, -12.0)
    assert abs(loudness(out) - -12.0) < 1.0
    assert np.abs(out).max() <= 10 ** (-1 / 20) + 1e-6
