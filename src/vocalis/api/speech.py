"""The OpenAI-compatible speech API: a request becomes an ordinary generate task (it shows in
History and Tasks, counts toward the active-task cap, survives restarts), and its audio streams
back as it renders (listening.py) once the first of it exists.

Errors carry OpenAI's `param` and `code`; error_shapes.py renders them in OpenAI's shape.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.authn import AuthUser
from vocalis.api.errors import AppError, BadRequest, UpstreamError
from vocalis.api.generations import GenerateRequest, start_generation
from vocalis.api.models import TaskStatus, Voice
from vocalis.api.openai_schemas import SpeechRequest
from vocalis.api.tasks import TaskRow, Tasks

# All speak through the worker's engine; the OpenAI names are there so clients with a fixed
# model name (tts-1 is the common default) work unchanged.
MODELS = ("vocalis", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
MODELS_CREATED = 1_764_460_800  # 2025-11-30: when these names were first served


class StillRendering(AppError):
    """The audio is not ready yet."""

    status_code = 504


async def find_voice(session: AsyncSession, user_id: str, wanted: str) -> Voice:
    """The caller's voice with this id, or else this name (case-insensitive; the newest wins)."""
    voice = await session.scalar(
        select(Voice)
        .where(Voice.user_id == user_id)
        .where((Voice.id == wanted) | (func.lower(Voice.name) == wanted.strip().lower()))
        .order_by((Voice.id == wanted).desc(), Voice.created_at.desc())
        .limit(1)
    )
    if voice is None:
        raise BadRequest(
            f"No voice {wanted!r}: use one of your voices' id or name (GET /v1/audio/voices).",
            param="voice",
            code="voice_not_found",
        )
    return voice


async def start_speech(
    session: AsyncSession, tasks: Tasks, user: AuthUser, body: SpeechRequest
) -> str:
    """Create the generate task for `body`; its task id."""
    if body.model not in MODELS:
        raise BadRequest(
            f"The model {body.model!r} does not exist; use one of {', '.join(MODELS)}.",
            param="model",
            code="model_not_found",
        )
    if not body.input.strip():
        raise BadRequest("input: there is no text to speak.", param="input")
    voice = await find_voice(session, user.id, body.voice)
    options = {"speed": body.speed} if body.speed != 1.0 else {}
    request = GenerateRequest(
        voice.id, body.input.strip(), voice.language, options=options, via="openai"
    )
    started = await start_generation(session, tasks, user, request)
    return started.task_id


async def wait_for_first_audio(tasks: Tasks, task_id: str, user_id: str, bound: float) -> TaskRow:
    """Poll (the machine's poll) until the task has audio to send — a first segment, or the
    whole result — or ends. Past `bound` seconds: 504, naming the task to poll instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    rate = tasks.settings.poll_rate_per_second
    while True:
        polled = await tasks.poll(task_id, user_id)
        task = polled.row
        ready = polled.live.segments_ready if polled.live else task.segments_ready
        if task.status is TaskStatus.COMPLETED or (ready or 0) >= 1:
            return task
        if task.terminal:
            raise UpstreamError(
                f"Synthesis {task.status.value}: {task.error or 'no audio was produced.'}",
                code=f"task_{task.status.value}",
            )
        if loop.time() >= deadline:
            raise StillRendering(
                f"The audio is still rendering after {bound:.0f} s. It continues as task "
                f"{task_id}: poll GET /api/tasks/{task_id}, then fetch its result.audio_url.",
                code="still_rendering",
            )
        await asyncio.sleep(1 / rate if rate > 0 else 0.25)
