"""Direct-upload reservations: a signed PUT URL is handed out only against a row here, so
outstanding uploads are bounded per user and an abandoned one is swept with what it reserved."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import BadRequest, RateLimited
from vocalis.api.models import UploadReservation, new_id


def upload_key(user_id: str, voice_id: str) -> str:
    """Where a direct (signed PUT) upload lands before finalize normalizes it."""
    return f"uploads/{user_id}/{voice_id}/original"


async def reserve(db: Database, user_id: str, settings: Settings, now: datetime) -> tuple[str, str]:
    """A new voice id and its upload key; RateLimited when the user already has the maximum
    of unexpired reservations outstanding."""
    voice_id = new_id()
    key = upload_key(user_id, voice_id)
    async with db.engine.begin() as conn:
        pending = await conn.scalar(
            select(func.count())
            .select_from(UploadReservation)
            .where(UploadReservation.user_id == user_id, UploadReservation.expires_at > now)
        )
        if (pending or 0) >= settings.max_pending_uploads:
            raise RateLimited(
                f"You have {pending} uploads waiting to be finalized (the limit is "
                f"{settings.max_pending_uploads}). Finalize them, or try again once they expire "
                f"({settings.upload_ttl_seconds / 60:.0f} minutes after they were requested).",
                headers={"Retry-After": str(int(settings.upload_ttl_seconds))},
            )
        await conn.execute(
            insert(UploadReservation).values(
                voice_id=voice_id,
                user_id=user_id,
                object_key=key,
                created_at=now,
                expires_at=now + timedelta(seconds=settings.upload_ttl_seconds),
            )
        )
    return voice_id, key


async def check_reserved(db: Database, user_id: str, voice_id: str, now: datetime) -> None:
    """BadRequest unless this user holds an unexpired reservation for this voice id."""
    async with db.autocommit() as conn:
        expires_at = await conn.scalar(
            select(UploadReservation.expires_at).where(
                UploadReservation.voice_id == voice_id, UploadReservation.user_id == user_id
            )
        )
    if expires_at is None or expires_at <= now:
        raise BadRequest(
            "This upload is unknown or has expired; ask /api/clone/upload-url for a new one."
        )


async def release(db: Database, voice_id: str) -> None:
    async with db.autocommit() as conn:
        await conn.execute(delete(UploadReservation).where(UploadReservation.voice_id == voice_id))


async def take_expired(db: Database, now: datetime, limit: int = 200) -> list[str]:
    """Remove up to `limit` expired reservations; the object keys they reserved."""
    async with db.engine.begin() as conn:
        rows = (
            await conn.execute(
                select(UploadReservation.voice_id, UploadReservation.object_key)
                .where(UploadReservation.expires_at <= now)
                .limit(limit)
            )
        ).all()
        if rows:
            await conn.execute(
                delete(UploadReservation).where(
                    UploadReservation.voice_id.in_([r.voice_id for r in rows])
                )
            )
    return [r.object_key for r in rows]
