"""The OpenAI-compatible API (`/v1`): speech, models, voices. Point an OpenAI client's base URL
at `http://host:port/v1` and use an API key (vk_…) as its key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from vocalis.api.body import read_model
from vocalis.api.deps import (
    CreatingUser,
    CurrentUser,
    SessionDep,
    SettingsDep,
    StorageDep,
    TasksDep,
)
from vocalis.api.listening import Listener
from vocalis.api.models import Voice
from vocalis.api.openai_schemas import (
    ModelList,
    ModelOut,
    OpenAIErrorOut,
    SpeechRequest,
    SpeechVoice,
    SpeechVoices,
)
from vocalis.api.openapi import errors, json_body
from vocalis.api.speech import MODELS, MODELS_CREATED, start_speech, wait_for_first_audio
from vocalis.api.tasks import store
from vocalis.api.transcode import FORMATS

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    responses={
        200: {"content": {f.content_type: {} for f in FORMATS.values()}},
        **errors(400, 401, 409, 413, 429, 502, 503, 504, model=OpenAIErrorOut),
    },
    openapi_extra=json_body(SpeechRequest),
)
async def speech(
    request: Request,
    user: CreatingUser,
    session: SessionDep,
    tasks: TasksDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Speak `input` in one of your voices; the audio streams back as it renders."""
    body = await read_model(request, SpeechRequest)
    task_id = await start_speech(session, tasks, user, body)
    task = await wait_for_first_audio(tasks, task_id, user.id, settings.speech_wait_seconds)
    generation = await store.load_generation(tasks.db, task.generation_id or "", user.id)
    fmt = FORMATS[body.response_format]
    listener = Listener(tasks, storage, generation, fmt)
    headers = {"Cache-Control": "no-store", "X-Vocalis-Task-Id": task_id}
    return StreamingResponse(listener.stream(), media_type=fmt.content_type, headers=headers)


@router.get("/models", responses=errors(401, model=OpenAIErrorOut))
async def models(user: CurrentUser) -> ModelList:
    """The model names speech accepts (all speak through the worker's engine)."""
    return ModelList(data=[ModelOut(id=name, created=MODELS_CREATED) for name in MODELS])


@router.get("/audio/voices", responses=errors(401, model=OpenAIErrorOut))
async def voices(user: CurrentUser, session: SessionDep) -> SpeechVoices:
    """Your voices, by id and name: either is a valid `voice` for speech."""
    rows = await session.scalars(
        select(Voice).where(Voice.user_id == user.id).order_by(Voice.created_at.desc())
    )
    return SpeechVoices(
        voices=[
            SpeechVoice(id=v.id, name=v.name, language=v.language, source=v.source) for v in rows
        ]
    )
