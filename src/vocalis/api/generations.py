"""Generations: validating a generate request, history listing, audio and regenerate."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.errors import BadRequest, NotFound
from vocalis.api.listing import contains_any
from vocalis.api.models import Generation, Task, TaskStatus, TaskType, Voice, new_id
from vocalis.api.tasks import Tasks
from vocalis.protocol import DEFAULT_LANGUAGE, LANGUAGES, MAX_TEXT_CHARS


def estimated_minutes(text: str) -> float:
    return max(0.1, round(len(text) / 375, 1))


async def start_generation(
    session: AsyncSession, tasks: Tasks, user_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Validate in SPEC §3's order, then create the generation and its task."""
    voice_id = body.get("voice_id")
    if voice_id is None or voice_id == "":
        raise BadRequest("Please select a voice")
    try:
        voice_id = str(uuid.UUID(voice_id))
    except (ValueError, TypeError, AttributeError):
        raise BadRequest("Invalid voice_id") from None
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("Please enter text to speak")
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest(f"Text cannot exceed {MAX_TEXT_CHARS} characters")
    language = body.get("language") or DEFAULT_LANGUAGE
    if not isinstance(language, str) or language not in LANGUAGES:
        raise BadRequest(f"Unsupported language: {language}")
    voice = await session.scalar(
        select(Voice).where(Voice.id == voice_id, Voice.user_id == user_id)
    )
    if voice is None:
        raise NotFound("Voice not found")
    if not (voice.reference_transcript or "").strip():
        raise BadRequest("This voice has no reference transcript.")
    if not voice.reference_object_key:
        raise BadRequest("Voice has no reference audio.")
    voice_name, ref_key, ref_text = (
        voice.name,
        voice.reference_object_key,
        voice.reference_transcript,
    )
    await session.rollback()  # end the read before the task transaction starts (SQLite locks)

    generation_id = new_id()
    minutes = estimated_minutes(text)
    task = await tasks.create(
        user_id,
        TaskType.GENERATE,
        job_request={
            "type": "clone",
            "text": text,
            "language": language,
            "ref_object_key": ref_key,
            "ref_text": ref_text,
        },
        metadata={
            "voice_id": voice_id,
            "voice_name": voice_name,
            "language": language,
            "characters": len(text),
            "text_preview": text[:120],
            "estimated_duration_minutes": minutes,
        },
        generation={
            "id": generation_id,
            "voice_id": voice_id,
            "voice_name": voice_name,
            "text": text,
            "language": language,
            "status": TaskStatus.PROCESSING.value,
        },
    )
    return {
        "task_id": task["id"],
        "generation_id": generation_id,
        "status": "processing",
        "is_long_running": True,
        "estimated_duration_minutes": minutes,
    }


async def list_generations(
    session: AsyncSession,
    user_id: str,
    *,
    page: int,
    per_page: int,
    search: str | None,
    status: str | None,
) -> tuple[list[Generation], int]:
    where = [Generation.user_id == user_id]
    if search and search.strip():
        where.append(contains_any(search, Generation.text, Generation.voice_name))
    if status:
        where.append(Generation.status == status)
    total = await session.scalar(select(func.count()).select_from(Generation).where(*where)) or 0
    rows = await session.scalars(
        select(Generation)
        .where(*where)
        .order_by(Generation.created_at.desc(), Generation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


async def delete_generation(session: AsyncSession, tasks: Tasks, generation: Generation) -> None:
    """Delete a generation and its audio; a task still running for it is cancelled first."""
    task_ids = (
        await session.scalars(
            select(Task.id).where(
                Task.generation_id == generation.id,
                Task.status.in_([s.value for s in (TaskStatus.PENDING, TaskStatus.PROCESSING)]),
            )
        )
    ).all()
    user_id, key = generation.user_id, generation.audio_object_key
    await session.rollback()
    for task_id in task_ids:
        try:
            await tasks.cancel(task_id, user_id)
        except BadRequest:
            pass  # it finished meanwhile
    await session.delete(await session.merge(generation))
    await session.commit()
    for k in {key, f"generations/{user_id}/{generation.id}.wav"} - {None}:
        await tasks.storage.delete(k)


def regenerate_link(generation: Generation) -> dict[str, Any]:
    query = {
        "voice": generation.voice_id or "",
        "text": generation.text,
        "language": generation.language,
    }
    return {
        "voice_id": generation.voice_id,
        "text": generation.text,
        "language": generation.language,
        "redirect_url": "/generate?" + urlencode(query),
    }
