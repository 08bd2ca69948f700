"""Designing a voice from a description."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocalis.api.body import read_json_object
from vocalis.api.deps import CreatingUser, EnrolmentDep, SettingsDep, TasksDep
from vocalis.api.designs import start_preview, validate_design
from vocalis.api.errors import BadRequest
from vocalis.api.models import VoiceSource
from vocalis.api.openapi import errors, form_body, json_body
from vocalis.api.schemas import DesignedVoice, DesignPreviewBody, TaskStarted
from vocalis.api.uploads import file_field, read_form, text_field
from vocalis.api.voices import VoiceFields, validate_voice_fields

router = APIRouter(prefix="/api/voices/design", tags=["design"])


@router.post(
    "/preview",
    responses=errors(400, 401, 409, 413, 429, 502, 503),
    openapi_extra=json_body(DesignPreviewBody),
)
async def preview(request: Request, user: CreatingUser, tasks: TasksDep) -> TaskStarted:
    """Start a design_preview task speaking `text` in a voice described by `instruct`."""
    return await start_preview(tasks, user.id, await read_json_object(request))


@router.post(
    "",
    responses=errors(400, 401, 413, 429),
    openapi_extra=form_body(
        {
            "name": "1-100 characters",
            "text": "the preview's text (what the audio says)",
            "language": "one of GET /api/languages",
            "instruct": "the description the voice was designed from",
            "audio": "the chosen preview's audio",
        },
        ["name", "text", "instruct", "audio"],
    ),
)
async def save(
    request: Request, user: CreatingUser, enrolment: EnrolmentDep, settings: SettingsDep
) -> DesignedVoice:
    """Save a chosen preview (multipart: name, text, language, instruct, audio) as a voice."""
    async with read_form(request, settings.max_upload_bytes) as form:
        text, language, instruct = validate_design(
            text_field(form, "text"), text_field(form, "language"), text_field(form, "instruct")
        )
        named = validate_voice_fields(text_field(form, "name"), language, text, instruct)
        fields = VoiceFields(named.name, language, text, instruct)
        audio = file_field(form, "audio")
        if audio is None:
            raise BadRequest("Please attach the chosen preview as `audio`.")
        voice = await enrolment.from_upload(user.id, fields, audio, source=VoiceSource.DESIGNED)
    return DesignedVoice(
        id=voice.id,
        name=voice.name,
        description=voice.description,
        language=voice.language,
        source=voice.source,
        preview_url=f"/api/voices/{voice.id}/preview",
    )
