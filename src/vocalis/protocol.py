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
The result is the segments joined, sample for sample; a `transcribe` job's result is a
TranscriptionResult (application/json) and it has no segments. Fields beyond SPEC §5 are
optional and a peer ignores what it does not know, so older workers and APIs keep working.
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

JobType = Literal["clone", "design", "transcribe"]
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
    """A job. `clone` speaks `text` in the voice of a reference recording (by URL for anything
    large, or inline base64) whose transcript is `ref_text`; `design` speaks it in a voice
    described by `instruct`; `transcribe` recognises the words in a reference recording and
    checks it as a clone reference (`ref_text`, optional: the transcript the user typed, to
    compare; `language`: a hint, "Auto" detects). Its result is a TranscriptionResult (JSON)."""

    model_config = ConfigDict(extra="forbid")

    type: JobType
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    language: str = DEFAULT_LANGUAGE
    ref_audio_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    ref_audio_base64: str | None = None
    ref_text: str | None = Field(default=None, max_length=MAX_REF_TEXT_CHARS)
    instruct: str | None = Field(default=None, max_length=MAX_INSTRUCT_CHARS)
    options: JobOptions = Field(default_factory=JobOptions)

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
        if self.type == "transcribe":
            if has_url == has_inline:
                raise ValueError(
                    "transcribe jobs need exactly one of ref_audio_url or ref_audio_base64"
                )
            if self.text:
                raise ValueError("transcribe jobs take no text; the typed transcript is ref_text")
            return self
        if not self.text.strip():
            raise ValueError("text must not be empty")
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


class ReferenceWarning(BaseModel):
    """Something about a reference recording that will make cloning worse; never blocking."""

    code: str  # too_quiet, clipped, too_noisy, too_little_speech, too_long, transcript_mismatch
    message: str  # for a person


class TranscriptWord(BaseModel):
    text: str
    start: float  # seconds
    end: float
    probability: float  # the recogniser's confidence, 0-1


class ReferenceSpan(BaseModel):
    start: float
    end: float
    text: str | None = None  # the words recognised in it


class ReferenceMeasures(BaseModel):
    duration_seconds: float
    loudness_lufs: float
    clipped_share: float
    snr_db: float  # speech level over the noise floor
    speech_seconds: float
    word_error_rate: float | None = None  # typed transcript against the recognised one


class TranscriptionResult(BaseModel):
    """The result of a `transcribe` job (GET /v1/jobs/{id}/result, application/json)."""

    text: str
    language: str  # a name from LANGUAGES, or Whisper's code for another language
    words: list[TranscriptWord]
    warnings: list[ReferenceWarning]
    best_segment: ReferenceSpan | None = None  # where to trim a reference over 20 s
    measures: ReferenceMeasures


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
    # Things the worker changed about the job and the user should know (e.g. a clone reference
    # whose transcript did not match, cloned from the voice alone).
    warnings: list[ReferenceWarning] | None = None


class TranscriptionInfo(BaseModel):
    """Whether this worker runs `transcribe` jobs, and in which languages."""

    enabled: bool = False
    languages: list[str] = Field(default_factory=list)
    model: str | None = None
    reason: str | None = None  # why not, when disabled


class ErrorBody(BaseModel):
    detail: str


class Health(BaseModel):
    """What SPEC §5 names is required (engine, languages, queue depth, capacity); the rest is
    optional, so a peer that sends only the contract's fields is understood."""

    ok: bool = True
    protocol: str = PROTOCOL_VERSION
    engine: str
    languages: list[str]
    sample_rate: int | None = None
    queue_depth: int  # jobs waiting for a synthesis slot
    running: int | None = None
    capacity: int  # bound on queued + running jobs; more is a 429
    concurrency: int | None = None  # syntheses that run at once
    # Measured over recent completed jobs (None until one completed): a job of n characters
    # takes about n / chars_per_second once it runs.
    chars_per_second: float | None = None
    # Engines with several synthesisers (the local engine's bases): name -> languages it speaks.
    bases: dict[str, list[str]] = Field(default_factory=dict)
    transcription: TranscriptionInfo = Field(default_factory=lambda: TranscriptionInfo())
