"""The per-user storage quota: bytes of stored references and generated audio.

Counted from the rows (`voices.reference_bytes`, `generations.audio_bytes`), not by listing
storage, so a check is one query. Pending direct uploads are bounded by count instead
(max_pending_uploads), design previews by age (preview_ttl_seconds); audio stored before the
byte columns existed is not counted.
"""

from __future__ import annotations

from sqlalchemy import func, select

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import PayloadTooLarge
from vocalis.api.models import Generation, Voice

MB = 1024 * 1024


async def used_bytes(db: Database, user_id: str) -> int:
    voices = select(func.coalesce(func.sum(Voice.reference_bytes), 0)).where(
        Voice.user_id == user_id
    )
    generations = select(func.coalesce(func.sum(Generation.audio_bytes), 0)).where(
        Generation.user_id == user_id
    )
    async with db.autocommit() as conn:
        total = await conn.scalar(select(voices.scalar_subquery() + generations.scalar_subquery()))
    return int(total or 0)


async def check_quota(db: Database, user_id: str, settings: Settings, adding: int = 0) -> None:
    """PayloadTooLarge (413) once the user's stored audio, plus `adding` bytes, passes the
    quota."""
    quota = settings.user_quota_mb * MB
    used = await used_bytes(db, user_id)
    if used + adding > quota or (adding == 0 and used >= quota):
        raise PayloadTooLarge(
            f"Your storage is full: {used / MB:.0f} MB of {settings.user_quota_mb} MB used. "
            "Delete voices or generations you no longer need to make room."
        )
