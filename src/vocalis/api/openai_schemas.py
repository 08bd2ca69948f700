"""The OpenAI-compatible API's bodies and answers (/v1): OpenAI's own shapes, so its SDKs and
the apps built on them work unchanged."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SpeechRequest(BaseModel):
    """OpenAI's `POST /v1/audio/speech` body. Fields it has that Vocalis does not use (e.g.
    `stream_format`) are accepted and ignored, so clients that send them work."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="One of GET /v1/models; all speak through the same engine.")
    input: str = Field(min_length=1, max_length=10_000, description="The text to speak.")
    voice: str = Field(description="One of your voices: its id, or its name (any case).")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    instructions: str | None = Field(
        default=None, max_length=4096, description="Kept with the task; cloned voices ignore it."
    )


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "vocalis"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class SpeechVoice(BaseModel):
    id: str
    name: str
    language: str
    source: str


class SpeechVoices(BaseModel):
    voices: list[SpeechVoice]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorOut(BaseModel):
    """Errors on /v1, in OpenAI's shape."""

    error: OpenAIErrorDetail
