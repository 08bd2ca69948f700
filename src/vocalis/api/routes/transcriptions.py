"""Transcriptions: a recording's words and the reference checks, as a task."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocalis.api.body import read_json_object
from vocalis.api.deps import CreatingUser, SessionDep, SettingsDep, TasksDep, get_owned
from vocalis.api.errors import BadRequest
from vocalis.api.inputs import parse_language
from vocalis.api.models import Voice
from vocalis.api.openapi import errors, form_body
from vocalis.api.schemas import TaskStarted
from vocalis.api.transcriptions import check_voice, transcribe_upload
from vocalis.api.uploads import file_field, read_form, text_field

router = APIRouter(prefix="/api/transcriptions", tags=["transcriptions"])

_FORM = form_body(
    {
        "audio": "the recording (any format the clone form takes)",
        "language": "optional: one of GET /api/languages (Auto: detect)",
        "transcript": "optional: what you typed, to check it against what is heard",
    },
    ["audio"],
)
_FORM["requestBody"]["content"]["application/json"] = {
    "schema": {"$ref": "#/components/schemas/TranscriptionBody"}
}


@router.post("", responses=errors(400, 401, 404, 409, 413, 429), openapi_extra=_FORM)
async def transcribe(
    request: Request,
    user: CreatingUser,
    tasks: TasksDep,
    session: SessionDep,
    settings: SettingsDep,
) -> TaskStarted:
    """Transcribe a recording (multipart `audio`) or check a saved voice (JSON `voice_id`);
    poll the task: its result holds the words, their confidence and the reference checks."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await read_json_object(request)
        voice = await get_owned(session, Voice, str(body.get("voice_id", "")), user)
        await session.rollback()
        return await check_voice(tasks, user.id, voice)
    async with read_form(request, settings.max_upload_bytes) as form:
        audio = file_field(form, "audio")
        if audio is None:
            raise BadRequest("Please attach the recording as `audio`.")
        language = parse_language(text_field(form, "language"))
        return await transcribe_upload(
            tasks, user.id, audio, language, text_field(form, "transcript")
        )
