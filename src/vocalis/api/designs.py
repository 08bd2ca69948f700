"""Voice design: a preview task from a description, then saving a chosen preview as a voice."""

from __future__ import annotations

from typing import Any

from vocalis.api.errors import BadRequest
from vocalis.api.inputs import parse_language
from vocalis.api.models import TaskType
from vocalis.api.schemas import TaskStarted
from vocalis.api.tasks import Tasks

MAX_PREVIEW_TEXT = 500
MAX_INSTRUCT = 500


def validate_design(text: Any, language: Any, instruct: Any) -> tuple[str, str, str]:
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("Please enter text for the preview to speak.")
    if len(text.strip()) > MAX_PREVIEW_TEXT:
        raise BadRequest(f"Preview text cannot exceed {MAX_PREVIEW_TEXT} characters.")
    if not isinstance(instruct, str) or not instruct.strip():
        raise BadRequest("Please describe the voice.")
    if len(instruct.strip()) > MAX_INSTRUCT:
        raise BadRequest(f"Voice description cannot exceed {MAX_INSTRUCT} characters.")
    return text.strip(), parse_language(language), instruct.strip()


async def start_preview(tasks: Tasks, user_id: str, body: dict[str, Any]) -> TaskStarted:
    text, language, instruct = validate_design(
        body.get("text"), body.get("language"), body.get("instruct")
    )
    task = await tasks.create(
        user_id,
        TaskType.DESIGN_PREVIEW,
        job_request={"type": "design", "text": text, "language": language, "instruct": instruct},
        metadata={"text": text, "language": language, "instruct": instruct},
        wait=False,
    )
    return TaskStarted(task_id=task.id, status=task.status)
