"""History: listing generations, their audio, delete and regenerate."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from vocalis.api.deps import (
    CurrentUser,
    SessionDep,
    SettingsDep,
    StorageDep,
    TasksDep,
    get_owned,
    parse_id,
)
from vocalis.api.errors import NotFound
from vocalis.api.generations import history_query, regenerate_link
from vocalis.api.listing import paginate
from vocalis.api.models import Generation
from vocalis.api.schemas import GenerationOut, GenerationPage

router = APIRouter(prefix="/api/generations", tags=["generations"])

StatusFilter = Literal["pending", "processing", "completed", "failed", "cancelled"]


@router.get("")
async def generations(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: StatusFilter | None = None,
) -> GenerationPage:
    """The user's generation history, newest first."""
    query = history_query(user.id, search, status)
    rows, pages = await paginate(session, query, page=page, per_page=per_page)
    return GenerationPage(generations=[GenerationOut.of(g) for g in rows], pagination=pages)


@router.get("/{generation_id}/audio")
async def audio(
    generation_id: str,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> RedirectResponse:
    """Redirect to a short-lived signed URL of the generated audio."""
    generation = await get_owned(session, Generation, generation_id, user)
    if generation.status != "completed" or not generation.audio_object_key:
        raise NotFound("Generation audio not available.")
    url = await storage.signed_url(
        generation.audio_object_key, expires_in=settings.signed_url_seconds
    )
    return RedirectResponse(url, status_code=302)


@router.delete("/{generation_id}")
async def delete(generation_id: str, user: CurrentUser, tasks: TasksDep) -> dict[str, bool]:
    """Delete a generation and its audio (cancelling its task if it is still running)."""
    await tasks.delete_generation(parse_id(generation_id), user.id)
    return {"ok": True}


@router.post("/{generation_id}/regenerate")
async def regenerate(generation_id: str, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """The inputs of a past generation, and a Generate page link pre-filled with them."""
    generation = await get_owned(session, Generation, generation_id, user)
    return regenerate_link(generation)
