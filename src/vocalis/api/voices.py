"""Voices: validate clone input, store the normalized reference, list, delete."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import BadRequest, Conflict, PayloadTooLarge
from vocalis.api.inputs import parse_language, text_input
from vocalis.api.listing import contains_any
from vocalis.api.models import Voice, VoiceSource, new_id, utcnow
from vocalis.api.quota import check_quota
from vocalis.api.reservations import check_reserved, release, upload_key
from vocalis.api.storage import Storage
from vocalis.api.uploads import save_upload, scratch_dir

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


def validate_voice_fields(
    name: Any, language: Any, transcript: Any, description: Any = None
) -> VoiceFields:
    name_s = text_input(name, "Name")
    if not name_s:
        raise BadRequest("Please enter a name for the voice.")
    if len(name_s) > 100:
        raise BadRequest("Name cannot exceed 100 characters.")
    # Required (Utter's contract): the client says what the reference is spoken in; "Auto" is
    # a choice it can make, not a default the server picks for it.
    language_s = parse_language(text_input(language, "Language"), required=True)
    transcript_s = text_input(transcript, "Transcript")
    if not transcript_s:
        raise BadRequest("Please enter the transcript: the exact words spoken in the recording.")
    if len(transcript_s) > MAX_TRANSCRIPT:
        raise BadRequest(f"Transcript cannot exceed {MAX_TRANSCRIPT} characters.")
    description_s = text_input(description, "Description") or None
    if description_s and len(description_s) > MAX_DESCRIPTION:
        raise BadRequest(f"Description cannot exceed {MAX_DESCRIPTION} characters.")
    return VoiceFields(name_s, language_s, transcript_s, description_s)


async def normalize(audio: Path, out: Path, settings: Settings) -> float:
    """`audio` (any format browsers record) as a mono 16-bit WAV at the reference rate, in a
    worker thread; its seconds. BadRequest when it does not decode or is too short or long."""
    from vocalis.audio import AudioError, normalize_reference  # numpy + PyAV: on first use

    try:
        return await anyio.to_thread.run_sync(
            lambda: normalize_reference(
                audio,
                out,
                sample_rate=settings.reference_sample_rate,
                min_seconds=settings.reference_min_seconds,
                max_seconds=settings.reference_max_seconds,
            )
        )
    except AudioError as exc:
        raise BadRequest(str(exc)) from None


@dataclass
class Enrolment:
    """Turns recordings into voices: normalize, store the reference, insert the row — all or
    nothing. Files pass through scratch files, never memory."""

    session: AsyncSession
    db: Database
    storage: Storage
    settings: Settings

    async def from_upload(
        self,
        user_id: str,
        fields: VoiceFields,
        upload: UploadFile,
        *,
        source: VoiceSource = VoiceSource.UPLOADED,
    ) -> Voice:
        """From a multipart upload."""
        async with scratch_dir(self.settings.scratch_dir) as tmp:
            await save_upload(upload, tmp / "upload", self.settings.max_upload_bytes)
            return await self.from_file(user_id, fields, tmp / "upload", source=source)

    async def from_direct_upload(self, user_id: str, voice_id: str, fields: VoiceFields) -> Voice:
        """From what the client PUT to its signed upload URL. Accepted or refused for its audio,
        the raw upload and its reservation are not kept (refused for its fields, it never gets
        here, so the client can correct them and retry)."""
        await check_reserved(self.db, user_id, voice_id, utcnow())
        key = upload_key(user_id, voice_id)
        if not await self.storage.exists(key):
            raise BadRequest("Audio file not uploaded.")
        limit = self.settings.max_upload_bytes
        try:
            if await self.storage.size(key) > limit:
                raise PayloadTooLarge(
                    f"The upload is too large; the limit is {limit // (1024 * 1024)} MB."
                )
            async with scratch_dir(self.settings.scratch_dir) as tmp:
                await self.storage.get_to_file(key, tmp / "upload")
                return await self.from_file(user_id, fields, tmp / "upload", voice_id=voice_id)
        finally:
            await self.storage.delete(key)
            await release(self.db, voice_id)

    async def from_file(
        self,
        user_id: str,
        fields: VoiceFields,
        audio: Path,
        *,
        source: VoiceSource = VoiceSource.UPLOADED,
        voice_id: str | None = None,
    ) -> Voice:
        """Normalize `audio`, store it as the reference and insert the voice."""
        session, settings = self.session, self.settings
        voice_id = voice_id or new_id()
        exists = await session.get(Voice, voice_id) is not None
        await session.rollback()  # hold no transaction (SQLite: no write lock) while decoding
        if exists:
            raise Conflict("This voice already exists.")
        key = reference_key(user_id, voice_id)
        async with scratch_dir(settings.scratch_dir) as tmp:
            normalized = tmp / "reference.wav"
            duration = await normalize(audio, normalized, settings)
            size = normalized.stat().st_size
            await check_quota(self.db, user_id, settings, adding=size)
            await self.storage.put_file(key, normalized, "audio/wav")
        voice = Voice(
            id=voice_id,
            user_id=user_id,
            name=fields.name,
            language=fields.language,
            reference_transcript=fields.transcript,
            description=fields.description,
            source=source.value,
            reference_object_key=key,
            reference_bytes=size,
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
            await self.storage.delete(key)
            raise
        return voice


def voices_query(user_id: str, search: str | None, source: str | None) -> Select[Voice]:
    """The user's voices, newest first, matching `search` (name, transcript, description)."""
    query = select(Voice).where(Voice.user_id == user_id)
    if search and search.strip():
        query = query.where(
            contains_any(search, Voice.name, Voice.reference_transcript, Voice.description)
        )
    if source:
        query = query.where(Voice.source == source)
    return query.order_by(Voice.created_at.desc(), Voice.id)


async def delete_voice(session: AsyncSession, storage: Storage, voice: Voice) -> None:
    """Delete the row (generations keep voice_id = null), then its stored audio."""
    key = voice.reference_object_key
    await session.delete(voice)
    await session.commit()
    if key:
        try:
            await storage.delete(key)
        except Exception:  # noqa: BLE001 - storage is a boundary; the row is already gone
            log.warning("could not delete reference audio %s", key, exc_info=True)
