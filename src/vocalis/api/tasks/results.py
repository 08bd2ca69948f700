"""A task's result audio: where it is stored, copying it from the worker, deleting it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from vocalis.api.models import TaskType
from vocalis.api.storage import Storage
from vocalis.api.tasks.rows import TaskRow
from vocalis.api.uploads import scratch_dir
from vocalis.api.worker_client import MalformedReply, WorkerClient
from vocalis.protocol import TranscriptionResult


class EmptyResult(Exception):
    """The worker finished the job but returned no audio."""


def result_key(task: TaskRow) -> str:
    """Deterministic, so a finalization retried after a lost lease rewrites the same object.
    (A transcription stores no audio: its key is the recording it was given, kept as long as
    the task.)"""
    if task.type is TaskType.GENERATE:
        return generation_key(task.user_id, task.generation_id or "")
    if task.type is TaskType.TRANSCRIBE:
        return transcription_input_key(task.user_id, task.id)
    return f"previews/{task.user_id}/{task.id}.wav"


def transcription_input_key(user_id: str, task_id: str) -> str:
    return f"transcriptions/{user_id}/{task_id}.wav"


def generation_key(user_id: str, generation_id: str) -> str:
    return f"generations/{user_id}/{generation_id}.wav"


def result_url(task: TaskRow) -> str:
    if task.type is TaskType.GENERATE:
        return f"/api/generations/{task.generation_id}/audio"
    return f"/api/tasks/{task.id}/audio"


@dataclass(frozen=True)
class StoredAudio:
    seconds: float
    bytes: int


async def store_result(
    worker: WorkerClient, storage: Storage, scratch: Path, job_id: str, key: str
) -> StoredAudio:
    """Download a finished job's audio to a scratch file under `scratch` and store it at
    `key`.

    EmptyResult (nothing stored) when the audio has no samples: a completed job's result does
    not change, so retrying cannot help."""
    from vocalis.audio import wav_duration  # numpy + PyAV: loaded on first use, not at import

    async with scratch_dir(scratch) as tmp:
        path = tmp / "result.wav"
        await worker.download(job_id, path)
        duration = await anyio.to_thread.run_sync(wav_duration, path)
        if duration <= 0:
            raise EmptyResult(EmptyResult.__doc__)
        size = path.stat().st_size
        await storage.put_file(key, path, "audio/wav")
    return StoredAudio(duration, size)


async def fetch_transcription(worker: WorkerClient, scratch: Path, job_id: str) -> dict[str, Any]:
    """A finished transcribe job's result (JSON), checked against the protocol's model."""
    async with scratch_dir(scratch) as tmp:
        path = tmp / "result.json"
        await worker.download(job_id, path)
        raw = await anyio.to_thread.run_sync(path.read_bytes)
    try:
        return TranscriptionResult.model_validate_json(raw).model_dump(mode="json")
    except ValueError as exc:
        raise MalformedReply(f"malformed transcription: {exc}") from exc
