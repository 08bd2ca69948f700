"""Job protocol v1: the wire models shared by the API's worker client and the worker.

Pure data, no I/O. See SPEC.md §5. JSON only: nothing here is ever pickled.

    POST   /v1/jobs                 JobRequest  -> 202 JobAccepted
    GET    /v1/jobs/{id}                        -> JobStatus (404 unknown, 410 expired)
    GET    /v1/jobs/{id}/result                 -> audio/wav (409 not ready, 404/410)
    GET    /v1/jobs/{id}/segments/{n}           -> audio/wav, the n-th finished segment from 0
                                                   (409 not yet, 404 no such segment, 404/410)
    POST   /v1/jobs/{id}/cancel                 -> JobStatus (idempotent)
    DELETE /v1/jobs/{id}                        -> 204, the job and its files dropped
                                                   (idempotent: 204 again; 404 unknown)
    GET    /v1/health                           -> Health
The result is the segments joined, sample for sample. Fields beyond SPEC §5 are optional and
a peer ignores what it does not know, so older workers and APIs keep working together.
Errors are `{"detail": "<message>"}` (ErrorBody); a 429 carries a Retry-After header.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROTOCOL_VERSION = "v1"

# What Qwen3-TTS supports; "Auto" lets the engine pick from the text.
LANGUAGES: tuple[str, ...] = (
    "Auto",
    "English",
    "Chinese",
    "Japanese",
    "Korean",
    "German",
    "French",
    "Russian",
    "Portuguese",
    "Spanish",
    "Italian",
)
DEFAULT_LANGUAGE = "Auto"

MAX_TEXT_CHARS = 10_000
MAX_REF_TEXT_CHARS = 10_000
MAX_INSTRUCT_CHARS = 2_000
MAX_URL_CHARS = 8_192

JobType = Literal["clone", "design"]
JobState = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class JobOptions(BaseModel):
    """Engine knobs. Unknown keys are passed through to the engine, which may ignore them, so a
    newer API can add a knob without breaking an older worker; values must be JSON scalars."""

    model_config = ConfigDict(extra="allow")

    max_new_tokens: int | None = Field(default=None, ge=1, le=32_768)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    # The local engine's synthesiser under its voice matcher (Health.bases lists them); one
    # that does not speak the job's language, or an unknown name, gets the engine's default.
    base: str | None = Field(default=None, max_length=32)
    # Output level: "standard" brings every voice to `output_lufs` (default: the worker's,
    # -16 LUFS); "reference" keeps the reference recording's own level (clone jobs).
    loudness: Literal["standard", "reference"] | None = None
    output_lufs: float | None = Field(default=None, ge=-40.0, le=-8.0)

    @model_validator(mode="after")
    def _extras_are_scalars(self) -> JobOptions:
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, str | bool | int | float | None):
                raise ValueError(f"option {key!r} must be a string, number, boolean or null")
        return self


class JobRequest(BaseModel):
    """A synthesis job. `clone` speaks `text` in the voice of a reference recording (by URL for
    anything large, or inline base64) whose transcript is `ref_text`; `design` speaks it in a
    voice described by `instruct`."""

    model_config = ConfigDict(extra="forbid")

    type: JobType
    text: str = Field(max_length=MAX_TEXT_CHARS)
    language: str = DEFAULT_LANGUAGE
    ref_audio_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    ref_audio_base64: str | None = None
    ref_text: str | None = Field(default=None, max_length=MAX_REF_TEXT_CHARS)
    instruct: str | None = Field(default=None, max_length=MAX_INSTRUCT_CHARS)
    options: JobOptions = Field(default_factory=JobOptions)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unsupported language {value!r}; one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("ref_audio_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError("ref_audio_url must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _fields_fit_type(self) -> JobRequest:
        has_url = self.ref_audio_url is not None
        has_inline = self.ref_audio_base64 is not None
        if self.type == "clone":
            if has_url == has_inline:
                raise ValueError("clone jobs need exactly one of ref_audio_url or ref_audio_base64")
            if not (self.ref_text and self.ref_text.strip()):
                raise ValueError("clone jobs need ref_text, the words spoken in the reference")
        else:
            if has_url or has_inline:
                raise ValueError("design jobs take no reference audio")
            if not (self.instruct and self.instruct.strip()):
                raise ValueError("design jobs need instruct, a description of the voice")
        return self


class JobAccepted(BaseModel):
    job_id: str
    status: JobState


class JobStatus(BaseModel):
    job_id: str
    status: JobState
    result_ready: bool
    elapsed_seconds: float  # since submission; frozen once the job is terminal
    progress: float | None = Field(default=None, ge=0.0, le=1.0)  # share of the text done
    error: str | None = None
    duration_seconds: float | None = None  # length of the result audio, once completed
    # Streaming (None from a worker without segments: wait for the result instead).
    segments_ready: int | None = Field(default=None, ge=0)  # fetchable: segments/0 .. n-1
    audio_seconds_ready: float | None = None  # of audio in those segments
    # The job's own rate: text_chars_done / running_seconds, for the time remaining.
    running_seconds: float | None = None  # since it got a synthesis slot; frozen when terminal
    text_chars_done: int | None = None
    text_chars_total: int | None = None


class Health(BaseModel):
    ok: bool = True
    protocol: str = PROTOCOL_VERSION
    engine: str
    languages: list[str]
    sample_rate: int
    queue_depth: int  # jobs waiting for a synthesis slot
    running: int
    capacity: int  # bound on queued + running jobs; more is a 429
    concurrency: int  # syntheses that run at once
    # Engines with several synthesisers (the local engine's bases): name -> languages it speaks.
    bases: dict[str, list[str]] = Field(default_factory=dict)
    # Measured over recent completed jobs (None until one completed): a job of n characters
    # takes about n / chars_per_second once it runs.
    chars_per_second: float | None = None


class ErrorBody(BaseModel):
    detail: str
