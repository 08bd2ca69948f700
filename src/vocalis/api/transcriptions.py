"""Transcription tasks: a recording's words (Whisper in the worker, never here) and the reference
checks, for the clone form to fill in and warn with; and the same check for a saved voice, whose
warnings are then kept on it.

A transcription is a task like any other (pollable, cancellable, counted toward the active-task
cap); its result is `{"transcription": TranscriptionResult}` (protocol.py). The recording given
for it is kept at tasks/results.transcription_input_key until the task is swept a day later.
"""

from __future__ import annotations

import logging

from starlette.datastructures import UploadFile

from vocalis.api.errors import AppError, BadRequest
from vocalis.api.models import TaskType, Voice, new_id
from vocalis.api.schemas import TaskStarted
from vocalis.api.tasks import Tasks
from vocalis.api.tasks.results import transcription_input_key
from vocalis.api.uploads import save_upload, scratch_dir
from vocalis.api.voices import normalize

log = logging.getLogger(__name__)


async def transcribe_upload(
    tasks: Tasks,
    user_id: str,
    upload: UploadFile,
    language: str,
    typed: str | None,
) -> TaskStarted:
    """Normalize and keep the recording, then start its transcription (submitted in the
    background: the answer does not wait on the worker)."""
    settings = tasks.settings
    task_id = new_id()
    key = transcription_input_key(user_id, task_id)
    async with scratch_dir(settings.scratch_dir) as tmp:
        await save_upload(upload, tmp / "upload", settings.max_upload_bytes)
        await normalize(tmp / "upload", tmp / "reference.wav", settings)
        await tasks.storage.put_file(key, tmp / "reference.wav", "audio/wav")
    try:
        task = await tasks.create(
            user_id,
            TaskType.TRANSCRIBE,
            job_request=_job(key, language, typed),
            metadata={"language": language, "typed_transcript": bool(typed)},
            task_id=task_id,
            wait=False,
        )
    except BaseException:
        await tasks.storage.delete(key)  # refused (the cap): nothing is kept
        raise
    return TaskStarted(task_id=task.id, status=task.status)


async def check_voice(tasks: Tasks, user_id: str, voice: Voice) -> TaskStarted:
    """Run the reference checks on a saved voice against its transcript; the warnings land on
    the voice when the task completes."""
    if not voice.reference_object_key:
        raise BadRequest("Voice has no reference audio.")
    task = await tasks.create(
        user_id,
        TaskType.TRANSCRIBE,
        job_request=_job(voice.reference_object_key, voice.language, voice.reference_transcript),
        metadata={"voice_id": voice.id, "voice_name": voice.name, "language": voice.language},
        wait=False,
    )
    return TaskStarted(task_id=task.id, status=task.status)


def _job(key: str, language: str, typed: str | None) -> dict[str, object]:
    job: dict[str, object] = {"type": "transcribe", "language": language, "ref_object_key": key}
    if typed and typed.strip():
        job["ref_text"] = typed.strip()  # compared with what is heard: the mismatch check
    return job


async def start_checks(tasks: Tasks, voice: Voice) -> str | None:
    """The new voice's reference checks, started in the background; the task id, or None when
    they cannot run now (the worker is not known to transcribe, or the active-task cap is
    reached): cloning never waits on the worker for them, nor fails for them."""
    health = tasks.worker.known_health()
    if health is None or not health.transcription.enabled:
        return None
    try:
        started = await check_voice(tasks, voice.user_id, voice)
    except AppError as exc:
        log.info("no reference checks for voice %s: %s", voice.id, exc)
        return None
    return started.task_id
