"""Listing, previewing and deleting voices."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from vocalis.api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep, get_owned
from vocalis.api.errors import NotFound
from vocalis.api.listing import SearchTerm, paginate
from vocalis.api.models import Voice
from vocalis.api.schemas import VoiceOut, VoicePage
from vocalis.api.voices import delete_voice, voices_query

router = APIRouter(prefix="/api/voices", tags=["voices"])


@router.get("")
async def voices(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    search: SearchTerm = None,
    source: Literal["uploaded", "designed"] | None = None,
) -> VoicePage:
    """The signed-in user's voices, newest first."""
    query = voices_query(user.id, search, source)
    rows, pages = await paginate(session, query, page=page, per_page=per_page)
    return VoicePage(voices=[VoiceOut.of(v) for v in rows], pagination=pages)


@router.get("/{voice_id}/preview")
async def preview(
    voice_id: str,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> RedirectResponse:
    """Redirect to a short-lived signed URL of the reference recording."""
    voice = await get_owned(session, Voice, voice_id, user)
    if not voice.reference_object_key:
        raise NotFound("Voice has no reference audio.")
    url = await storage.signed_url(
        voice.reference_object_key, expires_in=settings.signed_url_seconds
    )
    return RedirectResponse(url, status_code=302)


@router.delete("/{voice_id}")
async def delete(
    voice_id: str, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> dict[str, bool]:
    """Delete a voice and its reference audio; its generations stay, without a voice."""
    voice = await get_owned(session, Voice, voice_id, user)
    await delete_voice(session, storage, voice)
    return {"ok": True}
