"""Voices: validate clone input, store the normalized reference, list, delete."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from vocalis.api.config import Settings
from vocalis.api.errors import BadRequest, Conflict
from vocalis.api.listing import contains_any
from vocalis.api.models import Voice, VoiceSource, new_id
from vocalis.api.uploads import save_upload, scratch_dir
from vocalis.protocol import LANGUAGES

log = logging.getLogger(__name__)

MAX_TRANSCRIPT = 5000
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class VoiceFields:
    name: str
    language: str
    transcript: str
    description: str | None


def reference_key(user_id: str, voice_id: str) -> str:
    return f"references/{user_id}/{voice_id}/reference.wav"


def upload_key(user_id: str, voice_id: str) -> str:
    """Where a direct (signed PUT) upload lands before finalize normalizes it."""
    return f"uploads/{user_id}/{voice_id}/original"


async def create_voice_from_upload(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    user_id: str,
    fields: VoiceFields,
    upload: UploadFile,
    *,
    source: VoiceSource = VoiceSource.UPLOADED,
) -> Voice:
    """`create_voice` from a multipart upload, copied to a scratch file first (never memory)."""
    state = request.app.state
    async with scratch_dir(settings.data_dir / "tmp") as tmp:
        await save_upload(upload, tmp / "upload", settings.max_upload_bytes)
        return await create_voice(
            session,
            state.storage,
            settings,
            user_id,
            fields,
            tmp / "upload",
            sample_rate=await reference_sample_rate(state.worker, settings),
            source=source,
        )


def _text(value: Any, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{label} must be a string.")
    return value.strip()


def validate_voice_fields(
    name: Any, language: Any, transcript: Any, description: Any = None
) -> VoiceFields:
    name_s = _text(name, "Name")
    if not name_s:
        raise BadRequest("Please enter a name for the voice.")
    if len(name_s) > 100:
        raise BadRequest("Name cannot exceed 100 characters.")
    language_s = _text(language, "Language") or "Auto"
    if language_s not in LANGUAGES:
        raise BadRequest(f"Unsupported language: {language_s}")
    transcript_s = _text(transcript, "Transcript")
    if not transcript_s:
        raise BadRequest("Please enter the transcript: the exact words spoken in the recording.")
    if len(transcript_s) > MAX_TRANSCRIPT:
        raise BadRequest(f"Transcript cannot exceed {MAX_TRANSCRIPT} characters.")
    description_s = _text(description, "Description") or None
    if description_s and len(description_s) > MAX_DESCRIPTION:
        raise BadRequest(f"Description cannot exceed {MAX_DESCRIPTION} characters.")
    return VoiceFields(name_s, language_s, transcript_s, description_s)


async def reference_sample_rate(worker: Any, settings: Settings) -> int:
    """References are stored at the engine's sample rate (its health says which); the setting
    is the fallback while no worker answers."""
    health = await worker.engine_info()
    return int(health.sample_rate) if health else settings.reference_sample_rate


async def create_voice(
    session: AsyncSession,
    storage: Any,
    settings: Settings,
    user_id: str,
    fields: VoiceFields,
    audio: Path,
    *,
    sample_rate: int,
    source: VoiceSource = VoiceSource.UPLOADED,
    voice_id: str | None = None,
) -> Voice:
    """Normalize `audio`, store it as the reference and insert the voice — all or nothing."""
    from vocalis.audio import AudioError, normalize_reference  # numpy + PyAV: loaded on first use

    voice_id = voice_id or new_id()
    exists = await session.get(Voice, voice_id) is not None
    await session.rollback()  # hold no transaction (SQLite: no write lock) while decoding
    if exists:
        raise Conflict("This voice already exists.")
    async with scratch_dir(settings.data_dir / "tmp") as tmp:
        normalized = tmp / "reference.wav"
        try:
            duration = await anyio.to_thread.run_sync(
                lambda: normalize_reference(
                    audio,
                    normalized,
                    sample_rate=sample_rate,
                    min_seconds=settings.reference_min_seconds,
                    max_seconds=settings.reference_max_seconds,
                )
            )
        except AudioError as exc:
            raise BadRequest(str(exc)) from None
        key = reference_key(user_id, voice_id)
        await storage.put_file(key, normalized, "audio/wav")
    voice = Voice(
        id=voice_id,
        user_id=user_id,
        name=fields.name,
        language=fields.language,
        reference_transcript=fields.transcript,
        description=fields.description,
        source=source.value,
        reference_object_key=key,
        duration_seconds=round(duration, 3),
    )
    try:
        session.add(voice)
        await session.commit()
    except IntegrityError:
        # The same voice id finalized twice at once: the winner's row points at this very
        # key, so the object stays.
        await session.rollback()
        raise Conflict("This voice already exists.") from None
    except BaseException:
        await session.rollback()
        await storage.delete(key)
        raise
    return voice


async def list_voices(
    session: AsyncSession,
    user_id: str,
    *,
    page: int,
    per_page: int,
    search: str | None,
    source: str | None,
) -> tuple[list[Voice], int]:
    where = [Voice.user_id == user_id]
    if search and search.strip():
        where.append(
            contains_any(search, Voice.name, Voice.reference_transcript, Voice.description)
        )
    if source:
        where.append(Voice.source == source)
    total = await session.scalar(select(func.count()).select_from(Voice).where(*where)) or 0
    rows = await session.scalars(
        select(Voice)
        .where(*where)
        .order_by(Voice.created_at.desc(), Voice.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


async def delete_voice(session: AsyncSession, storage: Any, voice: Voice) -> None:
    """Delete the row (generations keep voice_id = null), then its stored audio."""
    key = voice.reference_object_key
    await session.delete(voice)
    await session.commit()
    if key:
        try:
            await storage.delete(key)
        except Exception:  # noqa: BLE001 - storage is a boundary; the row is already gone
            log.warning("could not delete reference audio %s", key, exc_info=True)
