"""A stand-in for `qwen_tts.Qwen3TTSModel` where the library is not installed (the main CI lane).

It answers the three calls `QwenEngine` makes with the real signatures (parameter names, order
and defaults; a test in the qwen lane compares them with the installed library, so a rename in
qwen-tts fails there) and the real return shapes, and records every call. Audio is a tone of
100 samples per character of text. With the library installed, use `qwen_tiny` instead: real
classes, random weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE_RATE = 24_000
SAMPLES_PER_CHAR = 100


class StandInQwen:
    """Records calls as (name, arguments); answers like Qwen3TTSModel: ([wav], sample_rate)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_voice_clone_prompt(
        self,
        ref_audio: Any,
        ref_text: Any = None,
        x_vector_only_mode: Any = False,
    ) -> list[str]:
        import soundfile

        # The engine deletes its temporary WAV once the prompt is built: read its format now.
        info = soundfile.info(ref_audio)
        arguments = {
            "ref_audio": ref_audio,
            "ref_text": ref_text,
            "x_vector_only_mode": x_vector_only_mode,
        }
        self.calls.append(("prompt", {**arguments, "ref_info": (info.samplerate, info.channels)}))
        return [f"prompt-{len(self.calls)}"]

    def generate_voice_clone(
        self,
        text: Any,
        language: Any = None,
        ref_audio: Any = None,
        ref_text: Any = None,
        x_vector_only_mode: Any = False,
        voice_clone_prompt: Any = None,
        non_streaming_mode: bool = False,
        **kwargs: Any,
    ) -> tuple[list[np.ndarray], int]:
        call = {"text": text, "language": language, "voice_clone_prompt": voice_clone_prompt}
        self.calls.append(("clone", {**call, **kwargs}))
        return [_tone(SAMPLES_PER_CHAR * len(text), 220.0)], SAMPLE_RATE

    def generate_voice_design(
        self,
        text: Any,
        instruct: Any,
        language: Any = None,
        non_streaming_mode: bool = True,
        **kwargs: Any,
    ) -> tuple[list[np.ndarray], int]:
        self.calls.append(
            ("design", {"text": text, "instruct": instruct, "language": language, **kwargs})
        )
        return [_tone(SAMPLES_PER_CHAR * len(text), 330.0)], SAMPLE_RATE

    def of(self, name: str) -> list[dict[str, Any]]:
        """The arguments of every recorded call to `name` ("prompt", "clone" or "design")."""
        return [arguments for called, arguments in self.calls if called == name]


def _tone(samples: int, freq: float) -> np.ndarray:
    t = np.arange(samples) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
