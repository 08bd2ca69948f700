"""The engine plug point: one method, `synthesize`, shared by every TTS engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np


class SynthesisError(Exception):
    """Synthesis failed for a reason the user should read (bad reference, unsupported text)."""


class JobCancelled(Exception):
    """The job was cancelled; raised by the progress callback between chunks."""


@dataclass(frozen=True)
class SynthesisRequest:
    kind: Literal["clone", "design"]
    text: str
    language: str  # one of protocol.LANGUAGES; "Auto" means detect from the text
    ref_audio_path: Path | None = None  # clone: a local file in any format vocalis.audio decodes
    ref_text: str | None = None  # clone: the words spoken in the reference
    instruct: str | None = None  # design: a description of the voice
    options: Mapping[str, Any] = field(default_factory=dict)  # max_new_tokens, seed, ...


class Progress(Protocol):
    def __call__(self, fraction: float) -> None:
        """Report progress in [0, 1]; raises JobCancelled when the job was cancelled."""


class Engine(Protocol):
    name: str
    sample_rate: int
    languages: tuple[str, ...]

    def synthesize(self, request: SynthesisRequest, progress: Progress) -> np.ndarray:
        """Return mono float32 audio in [-1, 1] at `sample_rate`, calling `progress` per chunk."""
