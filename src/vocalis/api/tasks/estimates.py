"""Honest time estimates: from the job's own measured rate once it has one, before that from
the worker's measured speed (its health's chars_per_second), never a fixed guess when a
measurement exists."""

from __future__ import annotations

from vocalis.api.worker_client import WorkerClient
from vocalis.protocol import JobStatus

# The old fixed guess (characters per minute), only when the worker has measured nothing yet.
FALLBACK_CHARS_PER_SECOND = 375 / 60


async def chars_per_second(worker: WorkerClient) -> float | None:
    """The worker's measured speed over recent jobs (its cached health), or None."""
    health = await worker.engine_info()
    speed = health.chars_per_second if health is not None else None
    return speed if speed and speed > 0 else None


async def estimated_minutes(characters: int, worker: WorkerClient) -> float:
    """What a job of `characters` should take, for `estimated_duration_minutes` at submit."""
    speed = await chars_per_second(worker) or FALLBACK_CHARS_PER_SECOND
    return max(0.1, round(characters / speed / 60, 1))


async def remaining_seconds(status: JobStatus, worker: WorkerClient) -> float | None:
    """Seconds until the job is done: the rest of its text at its own rate once it has done
    some, else its whole text at the worker's speed minus the time it has already run."""
    done, total, ran = status.text_chars_done, status.text_chars_total, status.running_seconds
    if done and total and ran:
        return round(max(0.0, (total - done) / (done / ran)), 1)
    if total is None:
        return None
    speed = await chars_per_second(worker)
    if speed is None:
        return None
    return round(max(0.0, total / speed - (ran or 0.0)), 1)
