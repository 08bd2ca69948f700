"""What the `qwen` engine asks of Qwen3-TTS for a request: pure functions, tested without a model.

The text cut into chunks (the first one short), each chunk's token budget and sampling
arguments, the seed, and the identity of a voice-clone prompt.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from vocalis.protocol import LANGUAGES
from vocalis.worker.engines.base import SynthesisError
from vocalis.worker.engines.text import detect_language, split_sentences, with_short_lead

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
