"""The `qwen` engine: Qwen3-TTS through the `qwen-tts` package, on a GPU.

torch, qwen_tts, soundfile and PyAV are imported only inside the functions that load models or
touch audio files, so importing this module (the engine registry, the API's health checks,
tests) never pulls in torch. Everything that shapes a request (chunk plan, generation kwargs,
prompt-cache key) is a pure function in qwen_requests.py, tested without a model; the seams
are crossfade.py's.
"""

from __future__ import annotations

import math
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines.base import Progress, SynthesisError, SynthesisRequest
from vocalis.worker.engines.crossfade import Crossfade
from vocalis.worker.engines.qwen_requests import (
    generation_kwargs,
    plan_segments,
    prompt_cache_key,
    qwen_language,
    seed_option,
)

SAMPLE_RATE = 24_000
BASE_MODEL = "Qwen/Qwen3-TTS-12Hz-1.7B-Base"  # or "Qwen/Qwen3-TTS-12Hz-0.6B-Base"
DESIGN_MODEL = "Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign"

DEFAULT_CROSSFADE_MS = 40


def to_mono_float32(wav: Any, sample_rate: int) -> np.ndarray:
    """Normalise one model output to mono float32 in [-1, 1] at SAMPLE_RATE."""
    audio = np.asarray(wav, dtype=np.float32)
    if audio.ndim > 1:
        # qwen-tts returns 1-D audio; a (samples, channels) array is averaged just in case.
        audio = audio.mean(axis=-1)
    if sample_rate != SAMPLE_RATE and audio.size:
        from scipy.signal import resample_poly

        divisor = math.gcd(SAMPLE_RATE, sample_rate)
        audio = resample_poly(audio, SAMPLE_RATE // divisor, sample_rate // divisor)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


class PromptCache:
    """A small LRU of voice-clone prompts: building one encodes the reference on the GPU, and a
    user typically generates many lines with the same voice."""

    def __init__(self, size: int) -> None:
        self._size = max(0, size)
        self._items: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: str, prompt: Any) -> None:
        if self._size == 0:
            return
        self._items[key] = prompt
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


# --- heavy edges: model loading, seeding, reference decoding -----------------------------------


def load_qwen_model(model_id: str, revision: str | None = None, device: str | None = None) -> Any:
    """Load a Qwen3TTSModel: bf16 on CUDA, fp32 on CPU (slow, but it works for a smoke test)."""
    import importlib.util

    import torch
    from qwen_tts import Qwen3TTSModel

    if device is None:
        device = "cuda:0" if torch.cuda.is_available() else "cpu"
    source = model_id
    if revision:
        # qwen-tts forwards `revision` to the weights but resolves the speech tokenizer from the
        # default branch; a pinned snapshot directory pins every file of the checkpoint.
        from huggingface_hub import snapshot_download

        source = snapshot_download(model_id, revision=revision)
    kwargs: dict[str, Any] = {"device_map": device}
    if device.startswith("cuda"):
        kwargs["dtype"] = torch.bfloat16
        if importlib.util.find_spec("flash_attn") is not None:
            kwargs["attn_implementation"] = "flash_attention_2"
    else:
        kwargs["dtype"] = torch.float32
    return Qwen3TTSModel.from_pretrained(source, **kwargs)


def require_model_type(model: Any, expected: str) -> Any:
    """Refuse a checkpoint of the wrong kind when it loads, not on the first job.

    qwen-tts checks only inside each call and raises ValueError, which a clone job would report
    as unusable reference audio; a Base model given as the design model (or the reverse) is a
    deployment mistake, so it stops the worker at startup or fails loudly on first use.
    """
    found = model.model.tts_model_type
    if found != expected:
        raise ValueError(f"expected a Qwen3-TTS {expected} checkpoint, got a {found} one")
    return model


def seed_torch(seed: int) -> None:
    import torch

    torch.manual_seed(seed)  # seeds every CUDA device too


def write_reference_wav(source: Path, destination: Path) -> Path:
    """Decode any container/codec PyAV reads into a mono 24 kHz 16-bit WAV that qwen-tts loads.

    qwen-tts guesses whether a string is a path, a URL or base64; a plain WAV at an absolute
    path is the one input it never misreads, and decoding here turns a corrupt upload into a
    readable error instead of a stack trace from deep inside librosa.
    """
    import av
    import soundfile

    chunks: list[np.ndarray] = []
    try:
        with av.open(str(source)) as container:
            if not container.streams.audio:
                raise SynthesisError("The reference file contains no audio")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SynthesisError("The reference audio could not be decoded") from exc
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if audio.size < SAMPLE_RATE // 2:
        raise SynthesisError("The reference audio is shorter than half a second")
    soundfile.write(str(destination), np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16")
    return destination


# --- the engine ----------------------------------------------------------------------------------


class QwenEngine:
    """Clone with the Base model and a cached voice prompt; design with the VoiceDesign model."""

    name = "qwen"
    sample_rate = SAMPLE_RATE
    languages: tuple[str, ...] = LANGUAGES
    # In-context cloning conditions on ref_text word for word: a transcript covering only part
    # of the clip makes generation degenerate, so the worker checks it (EngineInfo).
    exact_transcript = True

    def __init__(
        self,
        model_id: str = BASE_MODEL,
        design_model_id: str = DESIGN_MODEL,
        revision: str | None = None,
        design_revision: str | None = None,
        device: str | None = None,
        prompt_cache_size: int = 32,
        crossfade_ms: int = DEFAULT_CROSSFADE_MS,
        *,
        model: Any | None = None,
        design_model: Any | None = None,
        seeder: Callable[[int], None] = seed_torch,
    ) -> None:
        """Load the Base model now (once per process); `model`/`design_model` let tests inject."""
        self._design_model_id = design_model_id
        self._design_revision = design_revision
        self._device = device
        self._seeder = seeder
        self._fade = SAMPLE_RATE * max(0, crossfade_ms) // 1000
        self._prompts = PromptCache(prompt_cache_size)
        # One GPU, one generation at a time: qwen-tts is not documented as thread-safe and
        # torch's RNG is global, so a seed only means something while its chunk holds the lock.
        # Jobs interleave at chunk boundaries, which keeps a long job from starving short ones.
        self._lock = threading.Lock()
        self._design_lock = threading.Lock()
        if model is None:
            model = require_model_type(load_qwen_model(model_id, revision, device), "base")
        self._model = model
        self._design_model = design_model

    def synthesize(self, request: SynthesisRequest, progress: Progress) -> Iterator[np.ndarray]:
        """One segment per chunk; each seam's crossfade goes out with the later segment, so the
        segments joined are exactly `crossfade_join` of the chunks."""
        chunks = plan_segments(request.text, request.language)
        language = qwen_language(request.language)
        seed = seed_option(request.options)
        progress(0.0)  # a job cancelled while queued stops before touching the GPU
        generate = self._generator(request, language)
        seams = Crossfade(self._fade)
        total, done, produced = sum(len(chunk) for chunk in chunks), 0, 0
        for index, chunk in enumerate(chunks):
            kwargs = generation_kwargs(chunk, request.options)
            with self._lock:
                if seed is not None:
                    self._seeder(seed + index)  # per-chunk seeds: same text, same audio
                wavs, sample_rate = generate(chunk, kwargs)
            segment = seams.add(to_mono_float32(wavs[0], int(sample_rate)))
            if index + 1 == len(chunks):
                segment = np.concatenate([segment, seams.finish()])
            done += len(chunk)
            if segment.size:
                produced += segment.size
                yield segment
            progress(done / total)
        if produced == 0:
            raise SynthesisError("The model produced no audio for this text")

    def _generator(
        self, request: SynthesisRequest, language: str
    ) -> Callable[[str, dict[str, Any]], tuple[Sequence[Any], int]]:
        if request.kind == "clone":
            prompt = self._clone_prompt(request)
            model = self._model

            def clone(text: str, kwargs: dict[str, Any]) -> tuple[Sequence[Any], int]:
                return model.generate_voice_clone(
                    text=text, language=language, voice_clone_prompt=prompt, **kwargs
                )

            return clone
        if request.kind == "design":
            designer = self._designer()
            instruct = (request.instruct or "").strip()

            def design(text: str, kwargs: dict[str, Any]) -> tuple[Sequence[Any], int]:
                return designer.generate_voice_design(
                    text=text, instruct=instruct, language=language, **kwargs
                )

            return design
        raise SynthesisError(f"The qwen engine cannot run {request.kind!r} jobs")

    def _clone_prompt(self, request: SynthesisRequest) -> Any:
        if request.ref_audio_path is None:
            raise SynthesisError("A clone job needs reference audio")
        try:
            reference = Path(request.ref_audio_path).read_bytes()
        except OSError as exc:
            raise SynthesisError("The reference audio could not be read") from exc
        ref_text = (request.ref_text or "").strip() or None
        key = prompt_cache_key(reference, ref_text)
        with self._lock:
            prompt = self._prompts.get(key)
            if prompt is not None:
                return prompt
            with tempfile.TemporaryDirectory(prefix="vocalis-ref-") as tmp:
                wav = write_reference_wav(Path(request.ref_audio_path), Path(tmp) / "ref.wav")
                try:
                    # Without a transcript only the speaker embedding is usable (x-vector mode);
                    # with one, qwen-tts conditions on reference text + codes (ICL), which
                    # clones far more faithfully.
                    prompt = self._model.create_voice_clone_prompt(
                        ref_audio=str(wav), ref_text=ref_text, x_vector_only_mode=ref_text is None
                    )
                except ValueError as exc:  # qwen-tts reports unusable input as ValueError
                    raise SynthesisError(f"The reference audio could not be used: {exc}") from exc
            self._prompts.put(key, prompt)
            return prompt

    def _designer(self) -> Any:
        # The VoiceDesign model is another 1.7B on the GPU; most deployments only clone, so it
        # loads on the first design job rather than at startup.
        with self._design_lock:
            if self._design_model is None:
                designer = load_qwen_model(
                    self._design_model_id, self._design_revision, self._device
                )
                self._design_model = require_model_type(designer, "voice_design")
            return self._design_model
