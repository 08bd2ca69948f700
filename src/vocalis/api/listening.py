"""Listening to a generation while it renders: GET /api/generations/{id}/stream.

A listener is a poller that also plays: it advances the task through the machine's one poll
(so a task that is streamed and never polled still completes, and is stored once however many
listen), and sends each finished segment the worker holds as soon as the poll reports it. When
the task completes, the rest comes from the stored result, which is the segments joined sample
for sample, so the listener continues exactly where the segments left off. A failed or cancelled
task ends the stream cleanly; a listener arriving after completion gets the stored audio.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from vocalis.api.models import TaskStatus
from vocalis.api.storage import Storage
from vocalis.api.tasks import TaskRow, Tasks, store
from vocalis.api.tasks.rows import GenerationRef
from vocalis.api.transcode import Encoder, Format, wav_chunks
from vocalis.api.uploads import scratch_dir
from vocalis.api.worker_client import ResultNotReady, WorkerError


class Listener:
    """One listener's stream: the encoded audio of one generation, segment by segment."""

    def __init__(
        self, tasks: Tasks, storage: Storage, generation: GenerationRef, fmt: Format
    ) -> None:
        """`generation`: already checked to be the listener's own (the route's 404)."""
        self.tasks = tasks
        self.storage = storage
        self.generation = generation
        self.format = fmt
        self._encoder: Encoder | None = None
        self._ready: int | None = None  # segments the worker holds, as the last poll saw
        self._sent_segments = 0
        self._sent_samples = 0

    async def stream(self) -> AsyncIterator[bytes]:
        user_id = self.generation.user_id
        async with scratch_dir(self.tasks.settings.scratch_dir) as tmp:
            task = await store.task_of_generation(self.tasks.db, self.generation.id)
            while task is not None and not task.terminal:
                task = await self._advance(task)
                async for data in self._new_segments(task, tmp):
                    yield data
                if not task.terminal:
                    await asyncio.sleep(self._interval)
            stored = await store.load_generation(self.tasks.db, self.generation.id, user_id)
            if stored.audio_object_key and (task is None or task.status is TaskStatus.COMPLETED):
                async for data in self._rest_of(stored.audio_object_key, tmp):
                    yield data
            if self._encoder is not None:
                yield await anyio.to_thread.run_sync(self._encoder.finish)

    @property
    def _interval(self) -> float:
        rate = self.tasks.settings.poll_rate_per_second
        return 1 / rate if rate > 0 else 0.25

    async def _advance(self, task: TaskRow) -> TaskRow:
        polled = await self.tasks.poll(task.id, self.generation.user_id)
        self._ready = (
            polled.live.segments_ready if polled.live is not None else polled.row.segments_ready
        )
        return polled.row

    async def _new_segments(self, task: TaskRow, tmp: Path) -> AsyncIterator[bytes]:
        """The finished segments not sent yet, while the worker still holds the job."""
        if task.terminal or task.job_id is None:
            return
        while self._sent_segments < (self._ready or 0):
            path = tmp / f"segment-{self._sent_segments}.wav"
            try:
                await self.tasks.worker.segment(task.job_id, self._sent_segments, path)
            except (ResultNotReady, WorkerError):
                return  # gone or not yet: the next poll says which (the result covers the rest)
            async for data in self._encode(path, start=0):
                yield data
            path.unlink(missing_ok=True)
            self._sent_segments += 1

    async def _rest_of(self, key: str, tmp: Path) -> AsyncIterator[bytes]:
        """The stored result from the first sample not yet sent."""
        path = tmp / "result.wav"
        await self.storage.get_to_file(key, path)
        async for data in self._encode(path, start=self._sent_samples):
            yield data

    async def _encode(self, path: Path, start: int) -> AsyncIterator[bytes]:
        chunks = wav_chunks(path, start)

        def step() -> bytes | None:
            item = next(chunks, None)
            if item is None:
                return None
            rate, pcm = item
            self._encoder = self._encoder or Encoder(self.format, rate)
            self._sent_samples += len(pcm)
            return self._encoder.feed(pcm)

        while (data := await anyio.to_thread.run_sync(step)) is not None:
            if data:
                yield data
