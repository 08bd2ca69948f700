"""Randomly initialised Qwen3-TTS checkpoints, built on disk with the real `qwen-tts` classes.

A stand-in for real weights wherever none can be downloaded (tests, CI, a `serve --engine qwen`
smoke test) and the model for `bench/qwen_speed.py`. The directory has the files and layout of a
published checkpoint (config.json, generation_config.json, model.safetensors, the text tokenizer,
speech_tokenizer/ with the 12 Hz codec and its feature extractor), so `Qwen3TTSModel.
from_pretrained` loads it through the same code as `Qwen/Qwen3-TTS-12Hz-1.7B-Base`: only the
weights are random, so what it says is noise, of a length set by the token budget.

Sizes: "tiny" (a few hundred thousand parameters: loads and generates in seconds on a CPU) and
"1.7B", the published configuration of Qwen3-TTS-12Hz-1.7B-Base / -VoiceDesign, transcribed from
their config.json files (talker, code predictor, speaker encoder, 12 Hz speech tokenizer).
Both keep the real frame rate (12.5 codec frames per second, 1 920 samples per frame at 24 kHz),
so durations and token counts mean the same as with real weights.

The text tokenizer is a small byte-level BPE shaped like Qwen2's (same pre-tokenizer, same chat
markers), not Qwen's 151k-token vocabulary: every id it produces is valid for both sizes, and a
text costs about one token per byte instead of one per word piece.

Needs the `qwen` extra (torch, transformers, qwen-tts); imported only by tests and benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

Kind = Literal["base", "voice_design"]
Size = Literal["tiny", "1.7B"]
SIZES: tuple[Size, ...] = ("tiny", "1.7B")

# Codec token ids above the codebook, as offsets from codebook_size (the published checkpoints
# use codebook 2048 and these at 2050-2157); the talker's vocabulary is the codebook plus 1 024
# such ids, which qwen-tts suppresses during generation (all but end-of-speech).
_CODEC_SPECIAL_OFFSETS = {
    "codec_pad_id": 100,
    "codec_bos_id": 101,
    "codec_eos_token_id": 102,
    "codec_think_id": 106,
    "codec_nothink_id": 107,
    "codec_think_bos_id": 108,
    "codec_think_eos_id": 109,
}
_LANGUAGE_OFFSETS = {
    "english": 2,
    "german": 5,
    "spanish": 6,
    "chinese": 7,
    "japanese": 10,
    "french": 13,
    "korean": 16,
    "russian": 21,
    "italian": 22,
    "portuguese": 23,
}
_SPECIAL_RANGE = 1024

# Per size: the talker, its code predictor, the speaker encoder (Base only) and the codec.
_TALKER: dict[Size, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "text_hidden_size": 32,
        "num_code_groups": 4,
        "max_position_embeddings": 4096,
        # mrope sections split head_dim / 2 rotary frequencies between three position axes.
        "rope_scaling": {"interleaved": True, "mrope_section": [2, 1, 1], "rope_type": "default"},
    },
    "1.7B": {
        "hidden_size": 2048,
        "intermediate_size": 6144,
        "num_hidden_layers": 28,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "text_hidden_size": 2048,
        "num_code_groups": 16,
        "max_position_embeddings": 32768,
        "rope_scaling": {
            "interleaved": True,
            "mrope_section": [24, 20, 20],
            "rope_type": "default",
        },
    },
}
_CODE_PREDICTOR: dict[Size, dict[str, Any]] = {
    # Narrower than the talker, as in 1.7B, so the talker-to-predictor projection is exercised.
    "tiny": {
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 8,
        "max_position_embeddings": 64,
    },
    "1.7B": {
        "hidden_size": 1024,
        "intermediate_size": 3072,
        "num_hidden_layers": 5,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "max_position_embeddings": 65536,
    },
}
_SPEAKER_ENCODER: dict[Size, dict[str, Any]] = {
    # Res2Net splits channels into 8 groups; mel_dim stays 128 (qwen-tts computes 128 mel bands).
    "tiny": {
        "enc_channels": [16, 16, 16, 16, 48],
        "enc_attention_channels": 8,
        "enc_se_channels": 8,
    },
    "1.7B": {},  # the library's defaults are the published ones
}
_CODEBOOK: dict[Size, int] = {"tiny": 64, "1.7B": 2048}
_CODEC_ENCODER: dict[Size, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 16,
        "num_filters": 4,
        "upsample_groups": 16,
        "num_hidden_layers": 1,
        "intermediate_size": 32,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "codebook_dim": 16,
        "vector_quantization_hidden_dimension": 16,
        "num_quantizers": 8,
    },
    "1.7B": {
        "hidden_size": 512,
        "num_filters": 64,
        "upsample_groups": 512,
        "num_hidden_layers": 8,
        "intermediate_size": 2048,
        "num_attention_heads": 8,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "codebook_dim": 256,
        "vector_quantization_hidden_dimension": 256,
        "num_quantizers": 32,
    },
}
_CODEC_DECODER: dict[Size, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 16,
        "latent_dim": 16,
        "codebook_dim": 16,
        "decoder_dim": 16,  # halved by each of 4 upsampling blocks: the audio-rate layers are cheap
        "intermediate_size": 32,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "num_hidden_layers": 1,
    },
    "1.7B": {
        "hidden_size": 512,
        "latent_dim": 1024,
        "codebook_dim": 512,
        "decoder_dim": 1536,
        "intermediate_size": 1024,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "head_dim": 64,
        "num_hidden_layers": 8,
    },
}
# generation_config.json as published: sampling on, for the talker and its sub-talker.
GENERATION_DEFAULTS: dict[str, Any] = {
    "do_sample": True,
    "top_k": 50,
    "top_p": 1.0,
    "temperature": 0.9,
    "repetition_penalty": 1.05,
    "subtalker_dosample": True,
    "subtalker_top_k": 50,
    "subtalker_top_p": 1.0,
    "subtalker_temperature": 0.9,
    "max_new_tokens": 8192,
}

# The text tokenizer: 256 byte symbols, merges that make "assistant" one token (qwen-tts slices
# the chat template by token position: "<|im_start|>assistant\n" must be exactly three tokens),
# then the special tokens.
_ASSISTANT_MERGES = [
    ("a", "s"),
    ("as", "s"),
    ("ass", "i"),
    ("assi", "s"),
    ("assis", "t"),
    ("assist", "a"),
    ("assista", "n"),
    ("assistan", "t"),
]
_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|tts_pad|>",
    "<|tts_text_bos|>",
    "<|tts_text_eod|>",
]


def build_checkpoint(
    directory: Path, kind: Kind = "base", size: Size = "tiny", seed: int = 0
) -> Path:
    """Write a random-weight checkpoint of `kind` and `size` into `directory` and return it.

    The same `seed` gives the same weights. "1.7B" writes about 4 GB of float16 weights.
    """
    import torch
    from qwen_tts.core import Qwen3TTSTokenizerV2Config, Qwen3TTSTokenizerV2Model
    from qwen_tts.core.models import Qwen3TTSConfig, Qwen3TTSForConditionalGeneration
    from transformers import EncodecFeatureExtractor

    directory.mkdir(parents=True, exist_ok=True)
    token_ids = _write_text_tokenizer(directory)
    torch.manual_seed(seed)
    # Random weights are stored in half precision at full size (halves the bytes written); the
    # loader casts to whatever dtype the engine asks for.
    dtype = torch.float32 if size == "tiny" else torch.float16

    arguments = model_config(kind, size, token_ids)
    model = Qwen3TTSForConditionalGeneration(Qwen3TTSConfig(**arguments)).to(dtype)
    model.save_pretrained(directory, safe_serialization=True)
    # save_pretrained writes every attribute of the speaker-encoder sub-config, model_type
    # included, which Qwen3TTSSpeakerEncoderConfig.__init__ refuses on load; the published
    # config.json carries only the arguments, so write those instead.
    published = {"architectures": ["Qwen3TTSForConditionalGeneration"], "model_type": "qwen3_tts"}
    (directory / "config.json").write_text(json.dumps({**published, **arguments}, indent=2))
    # The library reads sampling defaults from this file; `max_new_tokens` etc. override it.
    (directory / "generation_config.json").write_text(json.dumps(GENERATION_DEFAULTS, indent=2))

    codec_dir = directory / "speech_tokenizer"
    codec = Qwen3TTSTokenizerV2Model(Qwen3TTSTokenizerV2Config(**codec_config(size))).to(dtype)
    codec.save_pretrained(codec_dir, safe_serialization=True)
    EncodecFeatureExtractor(
        feature_size=1, sampling_rate=24_000, padding_value=0.0, return_attention_mask=True
    ).save_pretrained(codec_dir)
    return directory


def model_config(kind: Kind, size: Size, token_ids: dict[str, int]) -> dict[str, Any]:
    """The Qwen3TTSConfig arguments for `kind` and `size`, given the text tokenizer's ids."""
    codebook = _CODEBOOK[size]
    talker = {
        **_TALKER[size],
        "vocab_size": codebook + _SPECIAL_RANGE,
        # Embedding rows for every id the tokenizer can produce, rounded up like Qwen's 151 936.
        "text_vocab_size": 151_936 if size == "1.7B" else _round_up(token_ids["size"], 64),
        "rope_theta": 1_000_000,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        "position_id_per_seconds": 13,
        **{name: codebook + offset for name, offset in _CODEC_SPECIAL_OFFSETS.items()},
        "codec_language_id": {lang: codebook + off for lang, off in _LANGUAGE_OFFSETS.items()},
        "spk_id": {},
        "spk_is_dialect": {},
        "code_predictor_config": {
            **_CODE_PREDICTOR[size],
            "vocab_size": codebook,
            "num_code_groups": _TALKER[size]["num_code_groups"],
            "rope_theta": 1_000_000,
            "rms_norm_eps": 1e-6,
            "hidden_act": "silu",
        },
    }
    config: dict[str, Any] = {
        "talker_config": talker,
        "tokenizer_type": "qwen3_tts_tokenizer_12hz",
        "tts_model_size": "1b7" if size == "1.7B" else "tiny",
        "tts_model_type": kind,
        "im_start_token_id": token_ids["<|im_start|>"],
        "im_end_token_id": token_ids["<|im_end|>"],
        "tts_pad_token_id": token_ids["<|tts_pad|>"],
        "tts_bos_token_id": token_ids["<|tts_text_bos|>"],
        "tts_eos_token_id": token_ids["<|tts_text_eod|>"],
    }
    if kind == "base":
        # The speaker embedding is added to the talker's input, so it has the talker's width.
        config["speaker_encoder_config"] = {
            **_SPEAKER_ENCODER[size],
            "enc_dim": talker["hidden_size"],
            "sample_rate": 24_000,
        }
    return config


def codec_config(size: Size) -> dict[str, Any]:
    """The Qwen3TTSTokenizerV2Config arguments (the 12 Hz speech tokenizer) for `size`."""
    groups = _TALKER[size]["num_code_groups"]
    return {
        "encoder_config": {
            **_CODEC_ENCODER[size],
            # Mimi's encoder: 24 kHz / (8*6*5*4) = 25 Hz, halved by `compress` to 12.5 Hz.
            "sampling_rate": 24_000,
            "frame_rate": 12.5,
            "upsampling_ratios": [8, 6, 5, 4],
            "compress": 2,
            "codebook_size": _CODEBOOK[size],
            "num_semantic_quantizers": 1,
            "use_causal_conv": True,
            "sliding_window": 250,
            "max_position_embeddings": 8000,
        },
        "decoder_config": {
            **_CODEC_DECODER[size],
            "codebook_size": _CODEBOOK[size],
            "num_quantizers": groups,
            "upsample_rates": [8, 5, 4, 3],  # 8*5*4*3*2*2 = 1920 samples per frame
            "upsampling_ratios": [2, 2],
            "sliding_window": 72,
            "max_position_embeddings": 8000,
        },
        "encoder_valid_num_quantizers": groups,
        "input_sample_rate": 24_000,
        "output_sample_rate": 24_000,
        "encode_downsample_rate": 1920,
        "decode_upsample_rate": 1920,
    }


def _write_text_tokenizer(directory: Path) -> dict[str, int]:
    """Save a byte-level BPE Qwen2 tokenizer; return its special-token ids and its size."""
    from transformers import Qwen2TokenizerFast
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab = {symbol: index for index, symbol in enumerate(symbols)}
    for left, right in _ASSISTANT_MERGES:
        vocab[left + right] = len(vocab)
    vocab_file = directory / "vocab.json"
    merges_file = directory / "merges.txt"
    vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merges_file.write_text(
        "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in _ASSISTANT_MERGES), encoding="utf-8"
    )
    tokenizer = Qwen2TokenizerFast(
        vocab_file=str(vocab_file),
        merges_file=str(merges_file),
        unk_token=None,
        bos_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=_SPECIAL_TOKENS[1:],
    )
    tokenizer.save_pretrained(directory)
    ids: dict[str, int] = {"size": len(tokenizer)}
    for token in _SPECIAL_TOKENS:
        token_id = tokenizer.convert_tokens_to_ids(token)
        assert isinstance(token_id, int)  # one token in, one id out
        ids[token] = token_id
    return ids


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
