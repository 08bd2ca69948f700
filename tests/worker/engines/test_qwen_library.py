"""QwenEngine on the real qwen-tts library: a tiny random checkpoint built with its own classes,
loaded by its own from_pretrained, prompts from create_voice_clone_prompt, audio from
generate_voice_clone / generate_voice_design and the 12 Hz codec, all on the CPU.

Runs where the `qwen` extra is installed (`.ci/qwen`); skipped elsewhere, unless
VOCALIS_REQUIRE_QWEN=1 says the library must be there (then a missing library fails).
The weights are random, so the audio is noise: assertions are about shapes, lengths, calls and
caching, never about how it sounds.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.worker.engines.test_qwen import _clone as clone_request
from vocalis.worker.engines import qwen
from vocalis.worker.engines.base import SynthesisRequest, synthesize_whole
from vocalis.worker.engines.qwen import SAMPLE_RATE, QwenEngine
from vocalis.worker.engines.qwen_requests import plan_segments
from vocalis.worker.engines.qwen_stand_in import StandInQwen
from vocalis.worker.engines.qwen_tiny import Kind, build_checkpoint, codec_config, model_config

if os.environ.get("VOCALIS_REQUIRE_QWEN") == "1":
    import qwen_tts
else:
    qwen_tts = pytest.importorskip("qwen_tts")

pytestmark = pytest.mark.slow

SAMPLES_PER_FRAME = 1920  # the 12 Hz codec: 24 kHz / 12.5 frames per second
# qwen-tts asks transformers for at least two new tokens (min_new_tokens=2) per generate call.
MIN_FRAMES = 2
MAX_FRAMES = 5
LONG_TEXT = " ".join(
    f"Sentence number {i} goes on for a little while, then it ends." for i in range(5)
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("qwen-tiny")
    return build_checkpoint(root / "base", "base"), build_checkpoint(
        root / "design", "voice_design"
    )


@pytest.fixture(scope="module")
def engine(checkpoints: tuple[Path, Path]) -> QwenEngine:
    base, design = checkpoints
    # The real loader, by directory, as for a pinned snapshot: no network, no revision.
    return QwenEngine(model_id=str(base), design_model_id=str(design), device="cpu")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Stereo 44.1 kHz FLAC: the engine must hand qwen-tts a mono 24 kHz WAV of it.
    path = tmp_path_factory.mktemp("reference") / "reference.flac"
    t = np.arange(44_100) / 44_100  # one second: the codec decodes it again with every chunk
    stereo = np.stack([np.sin(2 * np.pi * 180 * t), np.sin(2 * np.pi * 270 * t)], axis=1)
    soundfile.write(path, 0.3 * stereo, 44_100)
    return path


class Spy:
    """Wraps one bound method of the real model: records the calls, then runs the real thing."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.method(**kwargs)


@pytest.fixture
def spies(engine: QwenEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Spy]]:
    model = engine._model
    found = {}
    for name in ("create_voice_clone_prompt", "generate_voice_clone"):
        found[name] = Spy(getattr(model, name))
        monkeypatch.setattr(model, name, found[name])
    yield found


def _clone(reference: Path, text: str, **options: Any) -> SynthesisRequest:
    return clone_request(reference, text, max_new_tokens=MAX_FRAMES, **options)


def _frames_bounds(chunks: int, fade: int) -> tuple[int, int]:
    """Fewest and most samples `chunks` generate calls can give, after the crossfades."""
    seams = fade * (chunks - 1)
    return chunks * MIN_FRAMES * SAMPLES_PER_FRAME - seams, chunks * MAX_FRAMES * SAMPLES_PER_FRAME


def test_the_model_is_the_real_library(engine: QwenEngine) -> None:
    assert isinstance(engine._model, qwen_tts.Qwen3TTSModel)
    assert engine._model.model.tts_model_type == "base"


def test_clone_splits_sentences_into_generate_calls_and_caches_the_prompt(
    engine: QwenEngine, reference: Path, spies: dict[str, Spy]
) -> None:
    fractions: list[float] = []

    def progress(fraction: float) -> None:
        fractions.append(fraction)

    audio = synthesize_whole(engine, _clone(reference, LONG_TEXT, seed=11), progress)

    chunks = plan_segments(LONG_TEXT, "English")
    assert len(chunks) >= 2
    calls = spies["generate_voice_clone"].calls
    assert [call["text"] for call in calls] == chunks
    assert all(call["max_new_tokens"] == MAX_FRAMES for call in calls)
    done = [sum(len(c) for c in chunks[: i + 1]) for i in range(len(chunks))]
    assert fractions == [0.0] + [d / done[-1] for d in done]  # progress by characters spoken
    assert engine.sample_rate == SAMPLE_RATE
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.abs(audio).max() <= 1.0
    fewest, most = _frames_bounds(len(chunks), engine._fade)
    # qwen-tts cuts the reference's share off the decoded audio with int(): ±1 sample a chunk.
    assert fewest - len(chunks) <= audio.size <= most + len(chunks)

    (prompt_call,) = spies["create_voice_clone_prompt"].calls
    assert prompt_call["x_vector_only_mode"] is False  # a transcript: in-context cloning
    (item,) = calls[0]["voice_clone_prompt"]
    assert isinstance(item, qwen_tts.VoiceClonePromptItem) and item.icl_mode
    assert item.ref_code is not None and item.ref_code.shape[0] > 0

    # The second job with the same reference and transcript reuses the prompt: a cache hit.
    again = synthesize_whole(engine, _clone(reference, LONG_TEXT, seed=11), lambda _: None)
    assert len(spies["create_voice_clone_prompt"].calls) == 1
    assert (
        spies["generate_voice_clone"].calls[-1]["voice_clone_prompt"]
        is calls[0]["voice_clone_prompt"]
    )
    # Same seed, same text: the per-chunk seeds make sampling repeatable.
    np.testing.assert_array_equal(again, audio)

    other = _clone(reference, "Other words.", ref_text="Another transcript.")
    synthesize_whole(engine, other, lambda _: None)
    assert len(spies["create_voice_clone_prompt"].calls) == 2


def test_clone_without_transcript_uses_the_speaker_embedding_only(
    engine: QwenEngine, reference: Path, spies: dict[str, Spy]
) -> None:
    audio = synthesize_whole(
        engine, _clone(reference, "Hello there.", ref_text="  ", language="Auto"), lambda _: None
    )
    (prompt_call,) = spies["create_voice_clone_prompt"].calls
    assert prompt_call["ref_text"] is None and prompt_call["x_vector_only_mode"] is True
    (item,) = spies["generate_voice_clone"].calls[0]["voice_clone_prompt"]
    assert item.x_vector_only_mode and item.ref_code is None
    assert spies["generate_voice_clone"].calls[0]["language"] == "auto"
    fewest, most = _frames_bounds(1, engine._fade)
    assert fewest <= audio.size <= most  # no reference codes to cut: whole frames


def test_design_loads_the_voice_design_model_once_on_first_use(
    engine: QwenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[str] = []
    real_load = qwen.load_qwen_model

    def load(model_id: str, revision: str | None = None, device: str | None = None) -> Any:
        loaded.append(model_id)
        return real_load(model_id, revision, device)

    monkeypatch.setattr(qwen, "load_qwen_model", load)
    request = SynthesisRequest(
        kind="design",
        text="Guten Tag. Wie geht es Ihnen heute?",
        language="German",
        instruct="A deep, calm voice.",
        options={"max_new_tokens": MAX_FRAMES, "temperature": 0.7, "top_k": 20},
    )
    for _ in range(2):
        audio = synthesize_whole(engine, request, lambda _: None)
        assert audio.dtype == np.float32 and audio.ndim == 1
        fewest, most = _frames_bounds(1, engine._fade)
        assert fewest <= audio.size <= most
    assert len(loaded) <= 1  # none if an earlier test already loaded it
    designer = engine._designer()
    assert isinstance(designer, qwen_tts.Qwen3TTSModel)
    assert designer.model.tts_model_type == "voice_design"


def test_a_checkpoint_of_the_wrong_kind_is_refused_when_it_loads(
    checkpoints: tuple[Path, Path],
) -> None:
    # qwen-tts itself would only refuse inside the first clone call, with a ValueError the
    # engine reports as unusable reference audio.
    base, design = checkpoints
    with pytest.raises(ValueError, match="base checkpoint, got a voice_design one"):
        QwenEngine(model_id=str(design), device="cpu")
    swapped = QwenEngine(model_id=str(base), design_model_id=str(base), device="cpu")
    request = SynthesisRequest(kind="design", text="Hello.", language="English", instruct="Calm.")
    with pytest.raises(ValueError, match="voice_design checkpoint, got a base one"):
        synthesize_whole(swapped, request, lambda _: None)


@pytest.mark.parametrize("kind", ["base", "voice_design"])
def test_the_full_size_configuration_builds(kind: Kind) -> None:
    # bench/qwen_speed.py's 1.7B model, built without memory: the transcribed configuration
    # must fit qwen-tts' classes and come to the published size (~1.9 B with the text embedding).
    import torch
    from qwen_tts.core import Qwen3TTSTokenizerV2Config, Qwen3TTSTokenizerV2Model
    from qwen_tts.core.models import Qwen3TTSConfig, Qwen3TTSForConditionalGeneration

    names = ["<|im_start|>", "<|im_end|>", "<|tts_pad|>", "<|tts_text_bos|>", "<|tts_text_eod|>"]
    ids = {**{name: index for index, name in enumerate(names)}, "size": 300}
    with torch.device("meta"):
        model = Qwen3TTSForConditionalGeneration(Qwen3TTSConfig(**model_config(kind, "1.7B", ids)))
        codec = Qwen3TTSTokenizerV2Model(Qwen3TTSTokenizerV2Config(**codec_config("1.7B")))
    talker = sum(p.numel() for p in model.talker.parameters())
    assert 1.85e9 < talker < 1.95e9
    assert (model.speaker_encoder is not None) == (kind == "base")
    assert codec.decoder.total_upsample == SAMPLES_PER_FRAME


@pytest.mark.parametrize(
    "name", ["create_voice_clone_prompt", "generate_voice_clone", "generate_voice_design"]
)
def test_the_stand_in_has_the_library_signatures(name: str) -> None:
    # The library-free tests run the engine against StandInQwen; a rename or a new required
    # parameter in qwen-tts must fail here rather than pass there.
    real = inspect.signature(getattr(qwen_tts.Qwen3TTSModel, name))
    stand_in = inspect.signature(getattr(StandInQwen, name))

    def shape(signature: inspect.Signature) -> list[tuple[str, Any, bool]]:
        return [
            (p.name, p.kind, p.default is inspect.Parameter.empty)
            for p in signature.parameters.values()
        ]

    assert shape(stand_in) == shape(real)
