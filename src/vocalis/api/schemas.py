"""Request and response models of the studio API: the JSON contract of SPEC.md §3.

The profile's are in profile_schemas.py; the other client families have their own:
auth_schemas.py (GoTrue, /auth/v1, SPEC §4) and openai_schemas.py (the OpenAI-compatible /v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from starlette.responses import Response

from vocalis.api.models import Generation, TaskStatus, TaskType, Voice
from vocalis.api.tasks.rows import Polled, TaskRow


class ModelResponse(Response):
    """A model's JSON as the response, sent as is. For hot routes that declare the model as
    `response_model` (OpenAPI) but skip FastAPI's validate-again-then-serialize of the return
    value, which cost a task poll about a tenth of its CPU."""

    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.model_dump_json(), status_code)


# --- voices, generations, tasks (SPEC §3 shapes) ------------------------------------------


class Pagination(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


class VoiceOut(BaseModel):
    id: str
    name: str
    reference_transcript: str | None
    language: str
    source: str
    description: str | None
    duration_seconds: float | None
    created_at: datetime
    preview_url: str
    # What the reference checks found ([{code, message}]), null while they have not run.
    warnings: list[dict[str, Any]] | None = None

    @classmethod
    def of(cls, voice: Voice) -> VoiceOut:
        return cls(
            id=voice.id,
            name=voice.name,
            reference_transcript=voice.reference_transcript,
            language=voice.language,
            source=voice.source,
            description=voice.description,
            duration_seconds=voice.duration_seconds,
            created_at=voice.created_at,
            preview_url=f"/api/voices/{voice.id}/preview",
            warnings=voice.warnings,
        )


class VoicePage(BaseModel):
    voices: list[VoiceOut]
    pagination: Pagination


class GenerationOut(BaseModel):
    id: str
    voice_id: str | None
    voice_name: str | None
    text: str
    # null until there is audio to fetch (the URL answers 404 before that)
    audio_path: str | None
    duration_seconds: float | None
    language: str
    status: TaskStatus
    generation_time_seconds: float | None
    error_message: str | None
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, generation: Generation) -> GenerationOut:
        playable = generation.status == TaskStatus.COMPLETED and generation.audio_object_key
        return cls(
            id=generation.id,
            voice_id=generation.voice_id,
            voice_name=generation.voice_name,
            text=generation.text,
            audio_path=f"/api/generations/{generation.id}/audio" if playable else None,
            duration_seconds=generation.duration_seconds,
            language=generation.language,
            status=TaskStatus(generation.status),
            generation_time_seconds=generation.generation_time_seconds,
            error_message=generation.error_message,
            created_at=generation.created_at,
            completed_at=generation.completed_at,
        )


class GenerationPage(BaseModel):
    generations: list[GenerationOut]
    pagination: Pagination


class TaskOut(BaseModel):
    """A task as SPEC §3 shows it; `result` is left out while there is none."""

    id: str
    type: TaskType
    status: TaskStatus
    result: dict[str, Any] | None = None
    error: str | None
    modal_status: str | None
    modal_elapsed_seconds: float | None
    modal_poll_count: int
    progress: float | None
    # Streaming and estimates (beyond SPEC §3's shape): finished segments, their seconds of
    # audio, and the time left at the job's own measured rate (null while unknown).
    segments_ready: int | None = None
    audio_seconds_ready: float | None = None
    remaining_seconds: float | None = None
    generation_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None

    @model_serializer(mode="wrap")
    def _omit_missing_result(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        body: dict[str, Any] = handler(self)
        if body.get("result") is None:
            body.pop("result", None)
        return body

    @classmethod
    def of(cls, polled: Polled | TaskRow) -> TaskOut:
        """The stored row, with what the poll observed on top of it."""
        row, live = (polled.row, polled.live) if isinstance(polled, Polled) else (polled, None)
        return cls(
            id=row.id,
            type=row.type,
            status=row.status,
            result=row.result,
            error=row.error,
            modal_status=live.modal_status if live else row.modal_status,
            modal_elapsed_seconds=live.modal_elapsed_seconds if live else row.modal_elapsed_seconds,
            modal_poll_count=row.poll_count,
            progress=live.progress if live else row.progress,
            segments_ready=live.segments_ready if live else row.segments_ready,
            audio_seconds_ready=live.audio_seconds_ready if live else row.audio_seconds_ready,
            remaining_seconds=live.remaining_seconds if live else row.remaining_seconds,
            generation_id=row.generation_id,
            metadata=row.metadata,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )


class TaskFeed(BaseModel):
    tasks: list[TaskOut]
    next_before: str | None


class GenerateStarted(BaseModel):
    task_id: str
    generation_id: str
    status: Literal["processing"] = "processing"
    is_long_running: bool = True
    estimated_duration_minutes: float


# --- API keys ---------------------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(description="What the key is for, e.g. the program that will use it.")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    key: str = Field(description="The key itself: shown this once, never again.")
    prefix: str
    created_at: datetime


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut]


# --- small bodies and answers of SPEC §3 (documented in OpenAPI; several are parsed by hand,
# after auth, in the route) ---------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error outside /v1 and /auth/v1."""

    detail: str = Field(description="What went wrong, for a person.")


class OkOut(BaseModel):
    ok: Literal[True] = True


class LanguagesOut(BaseModel):
    languages: list[str]
    default: str
    provider: str | None = Field(description="The worker's engine, or null while unreachable.")
    # The worker's synthesisers and the languages each speaks (the local engine's bases); a
    # generation picks one with `base`.
    bases: dict[str, list[str]] = Field(default_factory=dict)
    transcription: dict[str, Any]


class CloneFields(BaseModel):
    name: str = Field(max_length=100)
    language: str = Field(description="One of GET /api/languages.")
    transcript: str = Field(max_length=5000, description="The words spoken in the recording.")
    description: str | None = Field(default=None, max_length=1000)


class FinalizeBody(CloneFields):
    voice_id: str = Field(description="The voice_id /api/clone/upload-url returned.")


class VoiceCreated(BaseModel):
    id: str
    name: str
    # The reference checks of the new voice run as this task (null when they could not be
    # started); its warnings then appear on the voice.
    check_task_id: str | None = None


class UploadReserved(BaseModel):
    voice_id: str
    upload_url: str = Field(description="PUT the recording here (no other headers needed).")
    object_key: str


class TranscriptionBody(BaseModel):
    """Check a saved voice (JSON); to transcribe a new recording, send a multipart form."""

    voice_id: str


class DesignPreviewBody(BaseModel):
    text: str = Field(max_length=500)
    language: str = "Auto"
    instruct: str = Field(max_length=500, description="A description of the voice.")


class TaskStarted(BaseModel):
    task_id: str
    status: TaskStatus


class DesignedVoice(BaseModel):
    id: str
    name: str
    description: str | None
    language: str
    source: str
    preview_url: str


class GenerateBody(BaseModel):
    voice_id: str
    text: str = Field(max_length=10_000)
    language: str = "Auto"


class TaskCancelled(BaseModel):
    cancelled: Literal[True] = True
    task_id: str


class RegenerateOut(BaseModel):
    voice_id: str | None
    text: str
    language: str
    redirect_url: str
