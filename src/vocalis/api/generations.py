"""Generations: validating a generate request, starting it, the history query, regenerate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.authn import AuthUser
from vocalis.api.deps import get_owned
from vocalis.api.errors import BadRequest
from vocalis.api.inputs import parse_language
from vocalis.api.listing import contains_any
from vocalis.api.models import Generation, TaskStatus, TaskType, Voice, new_id
from vocalis.api.schemas import GenerateStarted, RegenerateOut
from vocalis.api.tasks import Tasks
from vocalis.api.tasks.estimates import estimated_minutes
from vocalis.protocol import MAX_TEXT_CHARS

# The local engine's synthesisers a generation may ask for ("auto": the worker's default for
# the language). A worker without the asked base, or whose base does not speak the language,
# uses its default instead, so the choice is a preference, never a failure.
BASES: tuple[str, ...] = ("auto", "espeak", "kokoro")


@dataclass(frozen=True)
class GenerateRequest:
    voice_id: str
    text: str
    language: str
    base: str = "auto"  # the local engine's synthesiser (BASES)
    options: dict[str, Any] = field(default_factory=dict)  # more engine knobs (speed, …)
    via: str | None = None  # which API asked, when not the studio's own (metadata)

    @property
    def job_options(self) -> dict[str, Any]:
        return {**self.options, **({"base": self.base} if self.base != "auto" else {})}


def parse_generate(body: dict[str, Any]) -> GenerateRequest:
    """Validate a generate body in SPEC §3's order of messages."""
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
    if len(text.strip()) > MAX_TEXT_CHARS:
        raise BadRequest(f"Text cannot exceed {MAX_TEXT_CHARS} characters")
    base = body.get("base") or "auto"
    if base not in BASES:
        raise BadRequest(f"Unsupported base: {base}")
    return GenerateRequest(voice_id, text.strip(), parse_language(body.get("language")), base=base)


async def start_generation(
    session: AsyncSession, tasks: Tasks, user: AuthUser, request: GenerateRequest
) -> GenerateStarted:
    """Check the voice can speak, then create the generation and its task."""
    voice = await get_owned(session, Voice, request.voice_id, user, detail="Voice not found")
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
    text, language = request.text, request.language
    minutes = await estimated_minutes(len(text), tasks.worker)
    generation_id = new_id()
    task = await tasks.create(
        user.id,
        TaskType.GENERATE,
        job_request={
            "type": "clone",
            "text": text,
            "language": language,
            "ref_object_key": ref_key,
            "ref_text": ref_text,
            **({"options": request.job_options} if request.job_options else {}),
        },
        metadata={
            "voice_id": request.voice_id,
            "voice_name": voice_name,
            "language": language,
            "base": request.base,
            "characters": len(text),
            "text_preview": text[:120],
            "estimated_duration_minutes": minutes,
            **({"via": request.via} if request.via else {}),
        },
        generation={
            "id": generation_id,
            "voice_id": request.voice_id,
            "voice_name": voice_name,
            "text": text,
            "language": language,
            "status": TaskStatus.PROCESSING.value,
        },
    )
    return GenerateStarted(
        task_id=task.id, generation_id=generation_id, estimated_duration_minutes=minutes
    )


def history_query(user_id: str, search: str | None, status: str | None) -> Select[Generation]:
    """The user's generations, newest first, matching `search` (text, voice name) and `status`."""
    query = select(Generation).where(Generation.user_id == user_id)
    if search and search.strip():
        query = query.where(contains_any(search, Generation.text, Generation.voice_name))
    if status:
        query = query.where(Generation.status == status)
    return query.order_by(Generation.created_at.desc(), Generation.id)


def regenerate_link(generation: Generation) -> RegenerateOut:
    query = {
        "voice": generation.voice_id or "",
        "text": generation.text,
        "language": generation.language,
    }
    return RegenerateOut(
        voice_id=generation.voice_id,
        text=generation.text,
        language=generation.language,
        redirect_url="/generate?" + urlencode(query),
    )
