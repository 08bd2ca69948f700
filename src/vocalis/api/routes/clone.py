"""Cloning a voice: one multipart upload, or a signed direct upload followed by finalize."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from vocalis.api.body import read_json_object
from vocalis.api.deps import (
    ProvisionedUser,
    SessionDep,
    SettingsDep,
    get_storage,
    get_worker,
    parse_id,
)
from vocalis.api.errors import BadRequest, PayloadTooLarge
from vocalis.api.models import new_id
from vocalis.api.uploads import file_field, read_form, scratch_dir, text_field
from vocalis.api.voices import (
    create_voice,
    create_voice_from_upload,
    reference_sample_rate,
    upload_key,
    validate_voice_fields,
)

router = APIRouter(prefix="/api/clone", tags=["clone"])


@router.post("")
async def clone(
    request: Request, user: ProvisionedUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Clone a voice from a recording and its transcript (multipart form)."""
    async with read_form(request, settings.max_upload_bytes) as form:
        fields = validate_voice_fields(
            text_field(form, "name"),
            text_field(form, "language"),
            text_field(form, "transcript"),
            text_field(form, "description"),
        )
        audio = file_field(form, "audio")
        if audio is None:
            raise BadRequest("Please attach the recording as `audio`.")
        voice = await create_voice_from_upload(request, session, settings, user.id, fields, audio)
    return {"id": voice.id, "name": voice.name}


@router.post("/upload-url")
async def upload_url(
    request: Request, user: ProvisionedUser, settings: SettingsDep
) -> dict[str, Any]:
    """Reserve a voice id and a signed URL to PUT the recording to directly."""
    body = await read_json_object(request)
    validate_voice_fields(
        body.get("name"), body.get("language"), body.get("transcript"), body.get("description")
    )
    voice_id = new_id()
    key = upload_key(user.id, voice_id)
    url = await get_storage(request).signed_url(
        key, method="PUT", expires_in=settings.signed_url_seconds
    )
    return {"voice_id": voice_id, "upload_url": url, "object_key": key}


@router.post("/finalize")
async def finalize(
    request: Request, user: ProvisionedUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Turn a directly uploaded recording into a voice."""
    body = await read_json_object(request)
    if not isinstance(body.get("voice_id"), str):
        raise BadRequest("Please give the voice_id returned by /api/clone/upload-url.")
    voice_id = parse_id(body["voice_id"])
    fields = validate_voice_fields(
        body.get("name"), body.get("language"), body.get("transcript"), body.get("description")
    )
    storage = get_storage(request)
    key = upload_key(user.id, voice_id)
    if not await storage.exists(key):
        raise BadRequest("Audio file not uploaded.")
    try:
        if await storage.size(key) > settings.max_upload_bytes:
            raise PayloadTooLarge("The upload is too large; the limit is 50 MB.")
        async with scratch_dir(settings.data_dir / "tmp") as tmp:
            await storage.get_to_file(key, tmp / "upload")
            voice = await create_voice(
                session,
                storage,
                settings,
                user.id,
                fields,
                tmp / "upload",
                voice_id=voice_id,
                sample_rate=await reference_sample_rate(get_worker(request), settings),
            )
    finally:
        await storage.delete(key)  # accepted or rejected, the raw upload is not kept
    return {"id": voice.id, "name": voice.name}
