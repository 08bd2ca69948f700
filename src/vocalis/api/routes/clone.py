"""Cloning a voice: one multipart upload, or a signed direct upload followed by finalize."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocalis.api.body import read_json_object
from vocalis.api.deps import (
    CreatingUser,
    DatabaseDep,
    EnrolmentDep,
    SettingsDep,
    StorageDep,
    TasksDep,
    parse_id,
)
from vocalis.api.errors import BadRequest
from vocalis.api.models import utcnow
from vocalis.api.openapi import errors, form_body, json_body
from vocalis.api.reservations import reserve
from vocalis.api.schemas import CloneFields, FinalizeBody, UploadReserved, VoiceCreated
from vocalis.api.transcriptions import start_checks
from vocalis.api.uploads import file_field, read_form, text_field
from vocalis.api.voices import validate_voice_fields

router = APIRouter(prefix="/api/clone", tags=["clone"])


@router.post(
    "",
    responses=errors(400, 401, 413, 429),
    openapi_extra=form_body(
        {
            "name": "1-100 characters",
            "audio": "the recording: WAV, MP3, M4A/AAC, FLAC, OGG/Opus or WebM/Opus; up to 50 MB",
            "transcript": "the exact words spoken in it",
            "language": "one of GET /api/languages",
            "description": "optional",
        },
        ["name", "audio", "transcript", "language"],
    ),
)
async def clone(
    request: Request,
    user: CreatingUser,
    enrolment: EnrolmentDep,
    tasks: TasksDep,
    settings: SettingsDep,
) -> VoiceCreated:
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
    return VoiceCreated(
        id=voice.id, name=voice.name, check_task_id=await start_checks(tasks, voice)
    )


@router.post(
    "/upload-url", responses=errors(400, 401, 413, 429), openapi_extra=json_body(CloneFields)
)
async def upload_url(
    request: Request,
    user: CreatingUser,
    db: DatabaseDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> UploadReserved:
    """Reserve a voice id and a signed URL to PUT the recording to directly."""
    body = await read_json_object(request)
    validate_voice_fields(
        body.get("name"), body.get("language"), body.get("transcript"), body.get("description")
    )
    voice_id, key = await reserve(db, user.id, settings, utcnow())
    expires_in = min(settings.signed_url_seconds, int(settings.upload_ttl_seconds))
    url = await storage.signed_url(key, method="PUT", expires_in=expires_in)
    return UploadReserved(voice_id=voice_id, upload_url=url, object_key=key)


@router.post(
    "/finalize", responses=errors(400, 401, 409, 413, 429), openapi_extra=json_body(FinalizeBody)
)
async def finalize(
    request: Request, user: CreatingUser, enrolment: EnrolmentDep, tasks: TasksDep
) -> VoiceCreated:
    """Turn a directly uploaded recording into a voice."""
    body = await read_json_object(request)
    if not isinstance(body.get("voice_id"), str):
        raise BadRequest("Please give the voice_id returned by /api/clone/upload-url.")
    voice_id = parse_id(body["voice_id"])
    fields = validate_voice_fields(
        body.get("name"), body.get("language"), body.get("transcript"), body.get("description")
    )
    voice = await enrolment.from_direct_upload(user.id, voice_id, fields)
    return VoiceCreated(
        id=voice.id, name=voice.name, check_task_id=await start_checks(tasks, voice)
    )
