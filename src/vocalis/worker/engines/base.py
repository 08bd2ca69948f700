"""The engine plug point: one method, `synthesize`, shared by every TTS engine.

An engine hands its audio over segment by segment (a sentence chunk each, already mastered and
joined exactly as it will sound), so the worker can serve the first sentence while the rest
renders; the result is the segments concatenated, sample for sample.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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

    def synthesize(self, request: SynthesisRequest, progress: Progress) -> Iterator[np.ndarray]:
        """Yield mono float32 audio in [-1, 1] at `sample_rate`, one finished segment at a time.

        Nothing yielded may change later: seams (pauses, crossfades) and loudness are decided
        per segment. `progress(fraction)` is called after each chunk, fraction being the share
        of the text's characters done; it raises JobCancelled once the job is cancelled.
        """


def synthesize_whole(engine: Engine, request: SynthesisRequest, progress: Progress) -> np.ndarray:
    """Every segment joined: the whole audio, for callers that do not stream."""
    import numpy as np

    segments = list(engine.synthesize(request, progress))
    return np.concatenate(segments) if segments else np.zeros(0, dtype=np.float32)
