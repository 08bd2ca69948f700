"""Listing, previewing and deleting voices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from vocalis.api.deps import CurrentUser, SessionDep, SettingsDep, get_owned, get_storage
from vocalis.api.errors import NotFound
from vocalis.api.listing import pagination
from vocalis.api.models import Voice
from vocalis.api.views import voice_json
from vocalis.api.voices import delete_voice, list_voices

router = APIRouter(prefix="/api/voices", tags=["voices"])


@router.get("")
async def voices(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    search: Annotated[str | None, Query(max_length=200)] = None,
    source: Literal["uploaded", "designed"] | None = None,
) -> dict[str, Any]:
    """The signed-in user's voices, newest first."""
    rows, total = await list_voices(
        session, user.id, page=page, per_page=per_page, search=search, source=source
    )
    return {
        "voices": [voice_json(v) for v in rows],
        "pagination": pagination(page, per_page, total),
    }


@router.get("/{voice_id}/preview")
async def preview(
    voice_id: str, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> RedirectResponse:
    """Redirect to a short-lived signed URL of the reference recording."""
    voice = await get_owned(session, Voice, voice_id, user)
    if not voice.reference_object_key:
        raise NotFound("Voice has no reference audio.")
    url = await get_storage(request).signed_url(
        voice.reference_object_key, expires_in=settings.signed_url_seconds
    )
    return RedirectResponse(url, status_code=302)


@router.delete("/{voice_id}")
async def delete(
    voice_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> dict[str, bool]:
    """Delete a voice and its reference audio; its generations stay, without a voice."""
    voice = await get_owned(session, Voice, voice_id, user)
    await delete_voice(session, get_storage(request), voice)
    return {"ok": True}
