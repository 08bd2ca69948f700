"""JSON shapes of rows, exactly as SPEC §3 names them (Voice, Generation, Task)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vocalis.api.models import Generation, TaskStatus, Voice


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def voice_json(voice: Voice) -> dict[str, Any]:
    return {
        "id": voice.id,
        "name": voice.name,
        "reference_transcript": voice.reference_transcript,
        "language": voice.language,
        "source": voice.source,
        "description": voice.description,
        "duration_seconds": voice.duration_seconds,
        "created_at": _iso(voice.created_at),
        "preview_url": f"/api/voices/{voice.id}/preview",
    }


def generation_json(generation: Generation) -> dict[str, Any]:
    completed = generation.status == TaskStatus.COMPLETED.value and generation.audio_object_key
    return {
        "id": generation.id,
        "voice_id": generation.voice_id,
        "voice_name": generation.voice_name,
        "text": generation.text,
        # null until there is audio to fetch (the URL answers 404 before that)
        "audio_path": f"/api/generations/{generation.id}/audio" if completed else None,
        "duration_seconds": generation.duration_seconds,
        "language": generation.language,
        "status": generation.status,
        "generation_time_seconds": generation.generation_time_seconds,
        "error_message": generation.error_message,
        "created_at": _iso(generation.created_at),
        "completed_at": _iso(generation.completed_at),
    }


def task_json(task: Mapping[str, Any]) -> dict[str, Any]:
    body = {
        "id": task["id"],
        "type": task["type"],
        "status": task["status"],
        "error": task["error"],
        "modal_status": task["modal_status"],
        "modal_elapsed_seconds": task["modal_elapsed_seconds"],
        "modal_poll_count": task["poll_count"],
        "progress": task["progress"],
        "generation_id": task["generation_id"],
        "metadata": task["metadata"] or {},
        "created_at": _iso(task["created_at"]),
        "completed_at": _iso(task["completed_at"]),
    }
    if task["result"] is not None:
        body["result"] = task["result"]
    return body
