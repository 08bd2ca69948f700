"""Speed of Qwen3-TTS clone generation: tokens per second and real-time factor, batch 1 and batched.

    python -m bench.qwen_speed                          # 1.7B on cuda when present, else tiny
    python -m bench.qwen_speed --size tiny --batch 1,4  # the CPU smoke run
    python -m bench.qwen_speed --size 1.7B --max-new-tokens 256 --batch 1,4,8 --repeats 3

The model is the published Qwen3-TTS-12Hz-1.7B-Base configuration with random weights, built on
disk by vocalis.worker.engines.qwen_tiny (about 4 GB for 1.7B, kept in --cache-dir) and loaded by
the engine's own loader (bf16 and flash-attn when available on CUDA, fp32 on the CPU). Nothing is
downloaded. Random weights say noise, but they cost what trained ones cost per token, so every
run generates exactly --max-new-tokens frames: end-of-speech is never obeyed (the eos id handed to
generate is one the library suppresses), so a lucky early stop cannot flatter the figures.

One token is one 12.5 Hz codec frame (all 16 codebooks: the talker step plus the code predictor's
15 sub-steps), i.e. 80 ms of audio. Columns: wall seconds of generate_voice_clone (talker, code
predictor and the codec's decode to a waveform), frames per second per stream and for the batch,
real-time factor per stream (wall seconds per second of audio; below 1 is faster than real time)
and the batch's throughput in seconds of audio per second. The voice prompt (reference encoding)
is built once, before timing, as the engine's prompt cache does. The text tokenizer is
qwen_tiny's byte-level one, about 4x more text tokens than Qwen's own: the prompt is a little
longer than with the real tokenizer; generation steps are unaffected.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from vocalis.worker.engines.qwen_tiny import SIZES, Size, build_checkpoint

TEXT = (
    "The old lighthouse stood at the end of the harbour wall, its paint faded by decades of salt "
    "and wind, and every evening the keeper climbed the narrow stairs to wind the clockwork."
)
REFERENCE_TEXT = "Every evening the keeper climbed the narrow stairs."
FRAMES_PER_SECOND = 12.5
CACHE = Path.home() / ".cache" / "vocalis-bench"


def main() -> None:
    import torch

    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=SIZES, default="1.7B" if cuda else "tiny")
    parser.add_argument("--device", default="cuda:0" if cuda else "cpu")
    parser.add_argument("--batch", default="1,4", help="comma-separated batch sizes")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per batch size")
    parser.add_argument("--cache-dir", type=Path, default=CACHE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]

    started = time.perf_counter()
    checkpoint = ensure_checkpoint(args.cache_dir, cast(Size, args.size))  # one of `choices`
    built = time.perf_counter() - started

    from vocalis.worker.engines.qwen import load_qwen_model

    started = time.perf_counter()
    model = load_qwen_model(str(checkpoint), device=args.device)
    loaded = time.perf_counter() - started
    dtype = next(model.model.parameters()).dtype
    talker = model.model.talker
    parameters = sum(p.numel() for p in model.model.parameters())
    print(
        f"# Qwen3-TTS {args.size} Base, random weights ({parameters / 1e6:,.1f} M parameters "
        f"without the codec), {args.device}, {str(dtype).removeprefix('torch.')}; "
        f"checkpoint ready in {built:.1f} s, loaded in {loaded:.1f} s"
    )
    if args.device.startswith("cuda"):
        print(f"# {torch.cuda.get_device_name(args.device)}, torch {torch.__version__}")

    steps = StepCounter(talker)
    with tempfile.TemporaryDirectory(prefix="vocalis-qwen-speed-") as tmp:
        started = time.perf_counter()
        prompt = model.create_voice_clone_prompt(
            ref_audio=str(reference_wav(Path(tmp) / "reference.wav")), ref_text=REFERENCE_TEXT
        )
        took = time.perf_counter() - started
        print(f"# voice prompt (3 s reference, in-context) built in {took:.2f} s")

    # The pad id is among the ids qwen-tts suppresses, so it is never sampled: as the stop id it
    # keeps generate running for exactly max_new_tokens frames.
    never = model.model.config.talker_config.codec_pad_id

    def run(batch: int, max_new_tokens: int) -> tuple[float, int, float]:
        torch.manual_seed(args.seed)
        steps.count = 0
        started = time.perf_counter()
        wavs, rate = model.generate_voice_clone(
            text=[TEXT] * batch,
            language=["english"] * batch,
            voice_clone_prompt=prompt,
            max_new_tokens=max_new_tokens,
            eos_token_id=never,
        )
        wall = time.perf_counter() - started  # the wavs are numpy arrays: the GPU has finished
        audio = statistics.mean(len(w) for w in wavs) / rate
        return wall, steps.count, audio

    run(1, 4)  # warm-up: kernels, allocator, lazy initialisation
    print(
        f"{'batch':>5} {'frames':>6} {'wall s':>7} {'frames/s':>9} {'batch f/s':>9} "
        f"{'RTF':>6} {'audio s/s':>9} {'decoded s':>9}"
    )
    for batch in batches:
        runs = [run(batch, args.max_new_tokens) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        frames = runs[0][1]
        audio = runs[0][2]
        per_stream = frames / wall
        seconds = frames / FRAMES_PER_SECOND
        print(
            f"{batch:>5} {frames:>6} {wall:>7.2f} {per_stream:>9.1f} {per_stream * batch:>9.1f} "
            f"{wall / seconds:>6.2f} {batch * seconds / wall:>9.2f} {audio:>9.2f}"
        )


class StepCounter:
    """Counts the talker's generation steps (each call after the prompt's prefill is one frame)."""

    def __init__(self, talker: Any) -> None:
        self.count = 0
        talker.register_forward_hook(self._hook, with_kwargs=True)

    def _hook(self, module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        embeds = kwargs.get("inputs_embeds")
        if embeds is None or embeds.shape[1] == 1:  # a decode step, not the prefill
            self.count += 1


def ensure_checkpoint(cache_dir: Path, size: Size) -> Path:
    """The random checkpoint for `size`, built once into the cache."""
    directory = cache_dir / f"qwen3-tts-random-{size}-base"
    if not (directory / "speech_tokenizer" / "model.safetensors").exists():
        build_checkpoint(directory, "base", size)
    return directory


def reference_wav(path: Path) -> Path:
    """Three seconds of a gliding, vowel-like tone at 24 kHz (any audio makes a prompt)."""
    import soundfile

    rate = 24_000
    t = np.arange(3 * rate) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    audio = 0.1 * np.sum([np.sin(k * phase) / k for k in range(1, 12)], axis=0)
    soundfile.write(path, audio.astype(np.float32), rate)
    return path


if __name__ == "__main__":
    main()
