"""The `qwen` engine: Qwen3-TTS through the `qwen-tts` package, on a GPU.

torch, qwen_tts, soundfile and PyAV are imported only inside the functions that load models or
touch audio files, so importing this module (the engine registry, the API's health checks,
tests) never pulls in torch. Everything that shapes a request (chunk plan, generation kwargs,
prompt-cache key, crossfade) is a pure function and is tested without a model.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines.base import Progress, SynthesisError, SynthesisRequest
from vocalis.worker.engines.crossfade import Crossfade
from vocalis.worker.engines.text import detect_language, split_sentences, with_short_lead

SAMPLE_RATE = 24_000
BASE_MODEL = "Qwen/Qwen3-TTS-12Hz-1.7B-Base"  # or "Qwen/Qwen3-TTS-12Hz-0.6B-Base"
DESIGN_MODEL = "Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign"

# The 12 Hz codec emits 12.5 frames per second of audio (24 kHz / 1920-sample hop); one frame is
# one generated token.
TOKENS_PER_SECOND = 12.5
# The model drifts (babbles, loops, loses the voice) on long outputs, so text is cut into chunks
# of roughly 15-25 s of speech. CJK scripts carry about three times more speech per character.
LATIN_CHUNK_CHARS = 220
CJK_CHUNK_CHARS = 75
# The first chunk is cut to about a sentence: it is what a listener waits for before any audio.
LATIN_LEAD_CHARS = 80
CJK_LEAD_CHARS = 30
_CJK_LANGUAGES = frozenset({"Chinese", "Japanese", "Korean"})
# Token budget for a chunk: a slow speaker's duration, times a safety margin, plus a floor so a
# one-word chunk still has room for its breath. A runaway generation stops at the budget instead
# of filling the GPU for minutes; the cap bounds caller-supplied values too.
_SLACK = 1.6
_MIN_NEW_TOKENS = 40
MAX_NEW_TOKENS_CAP = 4096
_SAMPLING_OPTIONS: dict[str, type] = {
    "temperature": float,
    "top_k": int,
    "top_p": float,
    "repetition_penalty": float,
}
DEFAULT_CROSSFADE_MS = 40


# --- request shaping (pure) --------------------------------------------------------------------


def qwen_language(language: str) -> str:
    """Our language name as qwen-tts expects it: its config keys are lower-case, "auto" included.

    "Auto" stays "auto" rather than our own guess: the model then picks no language tag and
    adapts per sentence, which handles mixed-language text better than a forced wrong tag.
    """
    if language not in LANGUAGES:
        raise SynthesisError(f"Unsupported language {language!r}")
    return language.lower()


def plan_chunks(text: str, language: str) -> list[str]:
    """Cut text into sentence-aligned chunks sized for the script the text is written in."""
    limit = CJK_CHUNK_CHARS if _is_cjk(text, language) else LATIN_CHUNK_CHARS
    chunks = split_sentences(text, limit)
    if not chunks:
        raise SynthesisError("There is no text to speak")
    return chunks


def plan_segments(text: str, language: str) -> list[str]:
    """The chunks, the first cut down to about a sentence so the first audio comes soon."""
    lead = CJK_LEAD_CHARS if _is_cjk(text, language) else LATIN_LEAD_CHARS
    return with_short_lead(plan_chunks(text, language), lead)


def _is_cjk(text: str, language: str) -> bool:
    spoken = language if language != "Auto" else detect_language(text)
    return spoken in _CJK_LANGUAGES


def estimate_seconds(chunk: str) -> float:
    """A generous (slow-speaker) estimate of how long `chunk` takes to say."""
    seconds = 0.0
    for ch in chunk:
        if ord(ch) >= 0x2E80 and ch.isalnum():  # CJK ideographs, kana, Hangul: about a syllable
            seconds += 0.3
        elif ch.isalnum():
            seconds += 0.085
        elif ch in ",;:.!?…，。！？、；：":  # punctuation becomes a pause
            seconds += 0.15
    return seconds


def max_new_tokens_for(chunk: str, options: Mapping[str, Any]) -> int:
    """The token budget for one chunk: the caller's `max_new_tokens`, else derived from length."""
    given = options.get("max_new_tokens")
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            raise SynthesisError("max_new_tokens must be a positive integer")
        return min(given, MAX_NEW_TOKENS_CAP)
    derived = math.ceil(estimate_seconds(chunk) * TOKENS_PER_SECOND * _SLACK) + _MIN_NEW_TOKENS
    return min(derived, MAX_NEW_TOKENS_CAP)


def generation_kwargs(chunk: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for generate_voice_clone / generate_voice_design for one chunk.

    Only known sampling knobs are forwarded: options come from the network, and qwen-tts passes
    unknown kwargs straight into transformers' generate().
    """
    kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens_for(chunk, options)}
    for name, kind in _SAMPLING_OPTIONS.items():
        value = options.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SynthesisError(f"{name} must be a number")
        if kind is int and value != int(value):
            raise SynthesisError(f"{name} must be an integer")
        kwargs[name] = kind(value)
    return kwargs


def seed_option(options: Mapping[str, Any]) -> int | None:
    seed = options.get("seed")
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SynthesisError("seed must be a non-negative integer")
    return seed


def prompt_cache_key(reference: bytes, ref_text: str | None) -> str:
    """Identity of a voice-clone prompt: the reference's bytes and the transcript spoken in it."""
    digest = hashlib.sha256(reference)
    # The separator keeps (bytes, text) pairs from colliding by shifting bytes between them.
    digest.update(b"\x00text\x00")
    digest.update((ref_text if ref_text is not None else "\x00none").encode("utf-8"))
    return digest.hexdigest()


def crossfade_join(parts: Sequence[np.ndarray], fade_samples: int) -> np.ndarray:
    """Concatenate mono clips, overlapping each seam by up to `fade_samples` with linear fades.

    The fades sum to one across the overlap, so a signal that continues across a seam keeps its
    level; a clip shorter than the fade gets a proportionally shorter one. Each seam shortens
    the result by its overlap.
    """
    clips = [np.asarray(part, dtype=np.float32).reshape(-1) for part in parts]
    clips = [clip for clip in clips if clip.size]
    if not clips:
        return np.zeros(0, dtype=np.float32)
    out = clips[0].copy()
    for clip in clips[1:]:
        overlap = max(0, min(fade_samples, out.size, clip.size))
        if overlap == 0:
            out = np.concatenate([out, clip])
            continue
        # Endpoints excluded so neither clip is ever fully silenced or fully doubled.
        fade_in = (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1)).astype(np.float32)
        mixed = out[-overlap:] * (1.0 - fade_in) + clip[:overlap] * fade_in
        out = np.concatenate([out[:-overlap], mixed, clip[overlap:]])
    return out


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
