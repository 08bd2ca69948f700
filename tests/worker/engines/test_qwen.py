"""The qwen engine without the library: request shaping, and synthesize() around StandInQwen.

These run in every lane. With the `qwen` extra installed, test_qwen_library.py runs the same
engine on a tiny random checkpoint built with the real qwen-tts classes, and checks that
StandInQwen's signatures still match the library's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines import qwen
from vocalis.worker.engines.base import (
    JobCancelled,
    SynthesisError,
    SynthesisRequest,
    synthesize_whole,
)
from vocalis.worker.engines.crossfade import crossfade_join
from vocalis.worker.engines.qwen import (
    SAMPLE_RATE,
    PromptCache,
    QwenEngine,
    to_mono_float32,
)
from vocalis.worker.engines.qwen_requests import (
    CJK_CHUNK_CHARS,
    LATIN_CHUNK_CHARS,
    LATIN_LEAD_CHARS,
    MAX_NEW_TOKENS_CAP,
    generation_kwargs,
    max_new_tokens_for,
    plan_chunks,
    plan_segments,
    prompt_cache_key,
    qwen_language,
)
from vocalis.worker.engines.qwen_stand_in import SAMPLES_PER_CHAR, StandInQwen


def _tone(samples: int, freq: float = 220.0) -> np.ndarray:
    t = np.arange(samples) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "reference.flac"
    stereo = np.stack([_tone(44_100), _tone(44_100, 440.0)], axis=1)
    soundfile.write(path, stereo, 44_100)
    return path


def _engine(model: StandInQwen, **kwargs: Any) -> QwenEngine:
    return QwenEngine(model=model, design_model=kwargs.pop("design_model", model), **kwargs)


def _clone(reference: Path, text: str, **options: Any) -> SynthesisRequest:
    return SynthesisRequest(
        kind="clone",
        text=text,
        language=options.pop("language", "English"),
        ref_audio_path=reference,
        ref_text=options.pop("ref_text", "Words spoken in the reference."),
        options=options,
    )


LONG_TEXT = " ".join(
    f"This is sentence number {i}, which keeps going for a while." for i in range(12)
)


# --- import hygiene ----------------------------------------------------------------------------


def test_import_does_not_pull_in_torch() -> None:
    # A fresh interpreter, so modules imported by other tests cannot mask a heavy import.
    code = (
        "import sys\n"
        "import vocalis.worker.engines.qwen, vocalis.worker.engines.qwen_stand_in\n"
        "import vocalis.worker.engines.qwen_tiny\n"
        "heavy = {'torch', 'qwen_tts', 'transformers', 'av', 'soundfile'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- pure request shaping ----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_languages_map_to_qwen_tts_lower_case_names(language: str) -> None:
    assert qwen_language(language) == language.lower()
    assert qwen_language("Auto") == "auto"


def test_unknown_language_is_a_user_error() -> None:
    with pytest.raises(SynthesisError):
        qwen_language("Klingon")


def test_chunk_plan_sizes_by_script() -> None:
    latin = plan_chunks(LONG_TEXT, "English")
    assert len(latin) > 1
    assert all(len(chunk) <= LATIN_CHUNK_CHARS for chunk in latin)
    assert all(chunk.endswith(".") for chunk in latin)  # cut at sentence ends only
    chinese = "今天天气很好，我们一起去公园散步吧。" * 10
    cjk = plan_chunks(chinese, "Auto")  # detected as Chinese, so the smaller CJK size applies
    assert len(cjk) > 1
    assert all(len(chunk) <= CJK_CHUNK_CHARS for chunk in cjk)
    assert "".join(cjk) == chinese


def test_blank_text_cannot_be_planned() -> None:
    with pytest.raises(SynthesisError):
        plan_chunks("   \n ", "English")


def test_max_new_tokens_is_derived_from_length_and_capped() -> None:
    short = max_new_tokens_for("Hi.", {})
    long = max_new_tokens_for("word " * 40, {})
    assert 0 < short < long <= MAX_NEW_TOKENS_CAP
    # room for a slow speaker (12 chars/s) at 12.5 tokens/s on a full Latin chunk
    full = "a" * (LATIN_CHUNK_CHARS - 1) + "."
    assert max_new_tokens_for(full, {}) >= 12.5 * LATIN_CHUNK_CHARS / 12
    # a CJK character is a syllable, so it gets a bigger budget than a Latin letter
    assert max_new_tokens_for("字" * 50, {}) > max_new_tokens_for("a" * 50, {})
    assert max_new_tokens_for("字" * 10_000, {}) == MAX_NEW_TOKENS_CAP


def test_max_new_tokens_option_wins_but_is_capped() -> None:
    assert max_new_tokens_for("Hello there.", {"max_new_tokens": 123}) == 123
    assert max_new_tokens_for("Hello.", {"max_new_tokens": 10**6}) == MAX_NEW_TOKENS_CAP
    for bad in (0, -5, 2.5, "100", True):
        with pytest.raises(SynthesisError):
            max_new_tokens_for("Hello.", {"max_new_tokens": bad})


def test_generation_kwargs_always_carry_max_new_tokens_and_only_known_knobs() -> None:
    kwargs = generation_kwargs(
        "Hello.", {"seed": 3, "temperature": 0.7, "top_k": 20, "evil": "x", "max_new_tokens": None}
    )
    assert kwargs == {
        "max_new_tokens": max_new_tokens_for("Hello.", {}),
        "temperature": 0.7,
        "top_k": 20,
    }
    with pytest.raises(SynthesisError):
        generation_kwargs("Hello.", {"top_k": 2.5})
    with pytest.raises(SynthesisError):
        generation_kwargs("Hello.", {"temperature": "hot"})


def test_prompt_cache_key_depends_on_bytes_and_text() -> None:
    key = prompt_cache_key(b"RIFF-audio", "hello")
    assert key == prompt_cache_key(b"RIFF-audio", "hello")
    assert key != prompt_cache_key(b"RIFF-audio!", "hello")
    assert key != prompt_cache_key(b"RIFF-audio", "hello!")
    assert key != prompt_cache_key(b"RIFF-audio", None)
    assert prompt_cache_key(b"ab", "c") != prompt_cache_key(b"a", "bc")


def test_prompt_cache_evicts_least_recently_used() -> None:
    cache = PromptCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_crossfade_join_length_and_continuity() -> None:
    a, b, c = np.ones(1000), np.ones(500), np.ones(800)
    joined = crossfade_join([a, b, c], 100)
    assert joined.dtype == np.float32
    assert joined.size == 1000 + 500 + 800 - 2 * 100
    # fades sum to one: a constant signal stays constant through every seam
    np.testing.assert_allclose(joined, 1.0, atol=1e-6)
    # and the seam really blends: the tail of a fades into b
    ramp = crossfade_join([np.zeros(300), np.ones(300)], 100)
    assert np.all(np.diff(ramp[200:300]) > 0)
    assert ramp[199] == 0.0 and ramp[300] == 1.0


def test_crossfade_join_edges() -> None:
    assert crossfade_join([], 100).size == 0
    assert crossfade_join([np.zeros(0), np.ones(10)], 100).size == 10
    short = crossfade_join([np.ones(1000), np.ones(30)], 100)  # overlap limited by the short clip
    assert short.size == 1000
    np.testing.assert_array_equal(crossfade_join([np.ones(5), np.ones(5)], 0), np.ones(10))


def test_model_output_is_normalised_to_mono_24k() -> None:
    stereo = np.stack([np.full(480, 2.0), np.zeros(480)], axis=1)
    assert to_mono_float32(stereo, SAMPLE_RATE).tolist() == [1.0] * 480  # mean 1.0, clipped
    resampled = to_mono_float32(_tone(4800)[:4800], 48_000)
    assert resampled.size == 2400 and resampled.dtype == np.float32


# --- synthesize() around the stand-in ------------------------------------------------------------


def test_clone_runs_every_chunk_and_reports_progress(reference: Path) -> None:
    model = StandInQwen()
    fractions: list[float] = []

    def progress(fraction: float) -> None:
        fractions.append(fraction)

    segments = list(_engine(model).synthesize(_clone(reference, LONG_TEXT), progress))

    chunks = plan_segments(LONG_TEXT, "English")
    assert len(chunks[0]) <= LATIN_LEAD_CHARS < len(plan_chunks(LONG_TEXT, "English")[0])
    clones = model.of("clone")
    assert [call["text"] for call in clones] == chunks
    assert all(call["language"] == "english" for call in clones)
    assert all(call["max_new_tokens"] == max_new_tokens_for(call["text"], {}) for call in clones)
    total = sum(len(c) for c in chunks)
    done = [sum(len(c) for c in chunks[: i + 1]) for i in range(len(chunks))]
    assert fractions == [0.0] + [d / total for d in done]
    # One segment per chunk; joined, they are exactly the crossfaded whole.
    fade = SAMPLE_RATE * qwen.DEFAULT_CROSSFADE_MS // 1000
    assert len(segments) == len(chunks)
    audio = np.concatenate(segments)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == sum(SAMPLES_PER_CHAR * len(c) for c in chunks) - fade * (len(chunks) - 1)
    outputs = [_tone(SAMPLES_PER_CHAR * len(c)) for c in chunks]
    np.testing.assert_array_equal(audio, crossfade_join(outputs, fade))

    (prompt,) = model.of("prompt")
    assert prompt["ref_text"] == "Words spoken in the reference."
    assert prompt["x_vector_only_mode"] is False
    assert prompt["ref_info"] == (SAMPLE_RATE, 1)  # handed a mono 24 kHz WAV
    assert prompt["ref_audio"].endswith(".wav") and Path(prompt["ref_audio"]).is_absolute()
    assert all(call["voice_clone_prompt"] == ["prompt-1"] for call in clones)


def test_clone_prompt_is_cached_per_reference_and_transcript(
    reference: Path, tmp_path: Path
) -> None:
    model = StandInQwen()
    engine = _engine(model)
    synthesize_whole(engine, _clone(reference, "One."), lambda _: None)
    synthesize_whole(engine, _clone(reference, "Two."), lambda _: None)
    assert len(model.of("prompt")) == 1

    copy = tmp_path / "same-bytes.flac"
    copy.write_bytes(reference.read_bytes())
    # Same content, another path: a hit.
    synthesize_whole(engine, _clone(copy, "Three."), lambda _: None)
    assert len(model.of("prompt")) == 1

    synthesize_whole(engine, _clone(reference, "Four.", ref_text="Other words."), lambda _: None)
    assert len(model.of("prompt")) == 2
    assert model.of("clone")[-1]["voice_clone_prompt"] != model.of("clone")[0]["voice_clone_prompt"]


def test_cancellation_between_chunks_stops_generation(reference: Path) -> None:
    model = StandInQwen()
    chunks = plan_segments(LONG_TEXT, "English")
    assert len(chunks) >= 3

    def progress(fraction: float) -> None:
        if fraction > 0:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        synthesize_whole(_engine(model), _clone(reference, LONG_TEXT), progress)
    assert len(model.of("clone")) == 1


def test_cancelled_before_start_touches_no_model(reference: Path) -> None:
    model = StandInQwen()

    def progress(fraction: float) -> None:
        raise JobCancelled

    with pytest.raises(JobCancelled):
        synthesize_whole(_engine(model), _clone(reference, "Hello."), progress)
    assert model.calls == []


def test_seed_is_applied_per_chunk(reference: Path) -> None:
    seeds: list[int] = []
    model = StandInQwen()
    engine = _engine(model, seeder=seeds.append)
    synthesize_whole(engine, _clone(reference, LONG_TEXT, seed=7), lambda _: None)
    assert seeds == [7 + i for i in range(len(plan_segments(LONG_TEXT, "English")))]
    seeds.clear()
    synthesize_whole(engine, _clone(reference, "Hello."), lambda _: None)
    assert seeds == []


def test_options_reach_the_model(reference: Path) -> None:
    model = StandInQwen()
    request = _clone(reference, "Hello.", max_new_tokens=77, temperature=0.5, language="Auto")
    synthesize_whole(_engine(model), request, lambda _: None)
    (call,) = model.of("clone")
    assert (call["max_new_tokens"], call["temperature"], call["language"]) == (77, 0.5, "auto")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ref_audio_path": None}, "needs reference audio"),
        ({"ref_audio_path": Path("/nonexistent/ref.wav")}, "could not be read"),
        ({"language": "Elvish"}, "Unsupported language"),
    ],
)
def test_bad_clone_requests_are_user_errors(
    reference: Path, change: dict[str, Any], message: str
) -> None:
    base = _clone(reference, "Hello.")
    request = SynthesisRequest(**{**base.__dict__, **change})
    with pytest.raises(SynthesisError, match=message):
        synthesize_whole(_engine(StandInQwen()), request, lambda _: None)


def test_undecodable_reference_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "ref.mp3"
    bad.write_bytes(b"not audio at all" * 64)
    model = StandInQwen()
    with pytest.raises(SynthesisError, match="could not be decoded"):
        synthesize_whole(_engine(model), _clone(bad, "Hello."), lambda _: None)
    assert model.calls == []
