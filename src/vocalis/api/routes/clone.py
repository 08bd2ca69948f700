"""Cloning a voice: one multipart upload, or a signed direct upload followed by finalize."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from vocalis.api.body import read_json_object
from vocalis.api.deps import (
    CreatingUser,
    DatabaseDep,
    EnrolmentDep,
    SettingsDep,
    StorageDep,
    parse_id,
)
from vocalis.api.errors import BadRequest
from vocalis.api.models import utcnow
from vocalis.api.reservations import reserve
from vocalis.api.uploads import file_field, read_form, text_field
from vocalis.api.voices import validate_voice_fields

router = APIRouter(prefix="/api/clone", tags=["clone"])


@router.post("")
async def clone(
    request: Request, user: CreatingUser, enrolment: EnrolmentDep, settings: SettingsDep
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
        voice = await enrolment.from_upload(user.id, fields, audio)
    return {"id": voice.id, "name": voice.name}


@router.post("/upload-url")
async def upload_url(
    request: Request,
    user: CreatingUser,
    db: DatabaseDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Reserve a voice id and a signed URL to PUT the recording to directly."""
    body = await read_json_object(request)
    validate_voice_fields(
        body.get("name"), body.get("language"), body.get("transcript"), body.get("description")
    )
    voice_id, key = await reserve(db, user.id, settings, utcnow())
    expires_in = min(settings.signed_url_seconds, int(settings.upload_ttl_seconds))
    url = await storage.signed_url(key, method="PUT", expires_in=expires_in)
    return {"voice_id": voice_id, "upload_url": url, "object_key": key}


@router.post("/finalize")
async def finalize(request: Request, user: CreatingUser, enrolment: EnrolmentDep) -> dict[str, Any]:
    """Turn a directly uploaded recording into a voice."""
    body = await read_json_object(request)
    if not isinstance(body.get("voice_id"), str):
        raise BadRequest("Please give the voice_id returned by /api/clone/upload-url.")
    voice_id = parse_id(body["voice_id"])
    fields = validate_voice_fields(
        body.get("name"), body.get("language"), body.get("transcript"), body.get("description")
    )
    voice = await enrolment.from_direct_upload(user.id, voice_id, fields)
    return {"id": voice.id, "name": voice.name}
