"""History: listing generations, their audio, delete and regenerate."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, StreamingResponse

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
from vocalis.api.listening import Listener
from vocalis.api.listing import SearchTerm, paginate
from vocalis.api.models import Generation, TaskStatus
from vocalis.api.schemas import GenerationOut, GenerationPage
from vocalis.api.tasks import store
from vocalis.api.transcode import FORMATS, download_name, encode_stored

router = APIRouter(prefix="/api/generations", tags=["generations"])

StatusFilter = Literal["pending", "processing", "completed", "failed", "cancelled"]


@router.get("")
async def generations(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    search: SearchTerm = None,
    status: StatusFilter | None = None,
) -> GenerationPage:
    """The user's generation history, newest first."""
    query = history_query(user.id, search, status)
    rows, pages = await paginate(session, query, page=page, per_page=per_page)
    return GenerationPage(generations=[GenerationOut.of(g) for g in rows], pagination=pages)


@router.get(
    "/{generation_id}/audio",
    response_model=None,
    responses={
        302: {"description": "WAV: a redirect to a short-lived signed URL"},
        200: {"content": {"audio/mpeg": {}, "audio/ogg": {}, "audio/flac": {}}},
    },
)
async def audio(
    generation_id: str,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    format: Literal["wav", "mp3", "opus", "flac"] = "wav",
) -> RedirectResponse | StreamingResponse:
    """The generated audio: WAV by redirect to a signed URL; MP3, Opus or FLAC encoded as it
    streams, as a download named after the voice and the date."""
    generation = await get_owned(session, Generation, generation_id, user)
    key = generation.audio_object_key
    if generation.status != TaskStatus.COMPLETED or not key:
        raise NotFound("Generation audio not available.")
    if format == "wav":
        url = await storage.signed_url(key, expires_in=settings.signed_url_seconds)
        return RedirectResponse(url, status_code=302)
    fmt = FORMATS[format]
    name = download_name(generation.voice_name, generation.created_at, fmt)
    return StreamingResponse(
        encode_stored(storage, key, fmt, settings.scratch_dir),
        media_type=fmt.content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/{generation_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}}}},
)
async def stream(
    generation_id: str,
    user: CurrentUser,
    tasks: TasksDep,
    storage: StorageDep,
    format: Literal["mp3", "wav"] = "mp3",
) -> StreamingResponse:
    """Listen while it renders: each finished segment as soon as the worker has it, to the end
    (or the stored audio, once it is complete)."""
    generation = await store.load_generation(tasks.db, parse_id(generation_id), user.id)
    if generation.status in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        raise NotFound("Generation audio not available.")
    fmt = FORMATS[format]
    listener = Listener(tasks, storage, generation, fmt)
    return StreamingResponse(
        listener.stream(), media_type=fmt.content_type, headers={"Cache-Control": "no-store"}
    )


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
