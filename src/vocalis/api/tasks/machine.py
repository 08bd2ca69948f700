"""THE task state machine: create + submit, poll (advance), finalize, cancel, delete.

Every decision about a task lives here, and every status write: each is a compare-and-set
through transitions.transition (the one table of legal transitions), and the generation row
follows its task inside the same transaction. Finalization is claimed with a lease (a
conditional UPDATE with an expiry), so any number of concurrent polls — browser tabs, retrying
clients, reconcilers on several replicas — download and store the result once.

SQL lives in store.py, result audio in results.py; this module only decides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import BadRequest, Unavailable, UpstreamError
from vocalis.api.job_payloads import job_body
from vocalis.api.models import TaskStatus, TaskType, new_id, utcnow
from vocalis.api.storage import Storage
from vocalis.api.tasks import store
from vocalis.api.tasks.estimates import remaining_seconds
from vocalis.api.tasks.results import (
    EmptyResult,
    fetch_transcription,
    generation_key,
    result_key,
    result_url,
    store_result,
)
from vocalis.api.tasks.rows import Live, Polled, TaskRow
from vocalis.api.tasks.store import T
from vocalis.api.tasks.transitions import transition
from vocalis.api.worker_client import JobUnknown, WorkerClient, WorkerDown, WorkerError
from vocalis.protocol import JobStatus

log = logging.getLogger(__name__)

MAX_SUBMISSIONS = 2  # the first submission plus one resubmission of a lost job
SUBMIT_LEASE_SECONDS = 90.0
PROGRESS_WRITE_STEP = 0.05  # persist progress for the job feed only when it moved this much


@dataclass
class Tasks:
    db: Database
    storage: Storage
    worker: WorkerClient
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    _background: set[asyncio.Future[Any]] = field(default_factory=set)

    # ---- create and submit -------------------------------------------------------------

    async def create(
        self,
        user_id: str,
        type_: TaskType,
        job_request: dict[str, Any],
        metadata: dict[str, Any],
        generation: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        task_id: str | None = None,
    ) -> TaskRow:
        """Insert (generation +) task, submit the job, mark the task processing.

        With `wait=False` the task is returned pending and submitted in the background; if this
        process dies first, the submit lease expires and the next poll submits it."""
        now, token, task_id = self.clock(), new_id(), task_id or new_id()
        async with self.db.engine.begin() as conn:
            await store.check_active_cap(conn, user_id, self.settings.max_active_tasks)
            if generation:
                await store.insert_generation(
                    conn, {"user_id": user_id, "created_at": now, **generation}
                )
            await store.insert_task(
                conn,
                dict(
                    id=task_id,
                    user_id=user_id,
                    type=type_.value,
                    status=TaskStatus.PENDING.value,
                    generation_id=generation["id"] if generation else None,
                    job_request=job_request,
                    metadata=metadata,
                    attempts=0,
                    status_errors=0,
                    poll_count=0,
                    lease_owner=token,
                    lease_until=now + timedelta(seconds=SUBMIT_LEASE_SECONDS),
                    deadline_at=now + timedelta(seconds=self.settings.task_timeout_seconds),
                    created_at=now,
                    updated_at=now,
                ),
            )
        if not wait:
            # Read before the submission starts, so the answer is the stored `pending` however
            # fast the submission is (SPEC: these routes answer pending).
            task = await store.load(self.db, task_id)
            self._spawn(self._submit(task_id, job_request, token, initial=True))
            return task
        task, problem = await self._submit(task_id, job_request, token, initial=True)
        if task.status is TaskStatus.FAILED:
            # A worker that does not answer is a 503 (try again); one that refused, a 502.
            raise (Unavailable if isinstance(problem, WorkerDown) else UpstreamError)(task.error)
        return task

    async def _submit(
        self, task_id: str, job_request: dict[str, Any], token: str, *, initial: bool
    ) -> tuple[TaskRow, WorkerError | OSError | None]:
        """Submit the job under the lease `token`; record the job id, or fail the task (and
        say why: the exception)."""
        try:
            body = await job_body(job_request, self.storage, self.settings)
            job_id = await self.worker.submit(body)
        except (WorkerError, OSError) as exc:
            log.warning("submitting task %s failed: %s", task_id, exc)
            reason = (
                exc.public
                if isinstance(exc, WorkerError)
                else "the voice's reference audio could not be read."
            )
            verb = "start" if initial else "restart"
            async with self.db.engine.begin() as conn:
                await transition(
                    conn,
                    task_id,
                    TaskStatus.FAILED,
                    where=(T.c.lease_owner == token,),
                    error=f"Could not {verb} synthesis: {reason}",
                )
            return await store.load(self.db, task_id), exc
        async with self.db.engine.begin() as conn:
            if initial:
                won = await transition(
                    conn,
                    task_id,
                    TaskStatus.PROCESSING,
                    where=(T.c.lease_owner == token,),
                    **store.submitted(job_id),
                )
            else:  # a resubmission keeps the status; it only swaps the job
                won = await store.swap_job(conn, task_id, token, job_id)
        if not won:  # cancelled (or timed out) while we were submitting
            self._cancel_job_soon(job_id)
        return await store.load(self.db, task_id), None

    # ---- poll --------------------------------------------------------------------------

    async def poll(
        self, task_id: str, user_id: str | None, *, stale_before: datetime | None = None
    ) -> Polled:
        """Count this check and advance the task by one job-status call (SPEC §2).

        Only a task nobody checked since `stale_before` is advanced (the reconciler passes its
        interval); a poll closer than 1/poll_rate_per_second to the task's last check is
        answered as stored, without a worker call, however fast a client polls."""
        now = self.clock()
        if stale_before is None and self.settings.poll_rate_per_second > 0:
            stale_before = now - timedelta(seconds=1 / self.settings.poll_rate_per_second)
        task = await store.count_check(self.db, task_id, user_id, now, stale_before)
        if task is None:  # terminal, checked a moment ago, or NotFound
            return Polled(await store.load(self.db, task_id, user_id))
        return await self._advance(task, now)

    async def _advance(self, task: TaskRow, now: datetime) -> Polled:
        if now >= task.deadline_at:
            minutes = round(self.settings.task_timeout_seconds / 60, 1)
            return await self._fail(task, f"Timed out after {minutes:g} minutes.")
        if task.job_id is None:
            return await self._resume_submission(task, now)
        try:
            status = await self.worker.status(task.job_id)
        except JobUnknown:
            return await self._lost(task, now)
        except WorkerError as exc:
            return await self._status_error(task, exc, now)
        if status.status in ("queued", "running"):
            return await self._running(task, status)
        if status.status == "failed":
            return await self._fail(task, status.error or "Synthesis failed.", cancel_job=False)
        if status.status == "cancelled":
            return await self._fail(task, "The worker cancelled the job.", cancel_job=False)
        return await self._finalize(task, status, now)

    async def _running(self, task: TaskRow, status: JobStatus) -> Polled:
        live = Live(
            status.status,
            status.progress,
            round(status.elapsed_seconds, 2),
            status.segments_ready,
            status.audio_seconds_ready,
            await remaining_seconds(status, self.worker),
        )
        moved = (status.progress or 0.0) - (task.progress or 0.0) >= PROGRESS_WRITE_STEP
        new_segment = (status.segments_ready or 0) != (task.segments_ready or 0)
        if moved or new_segment or task.modal_status != status.status or task.status_errors:
            await store.record_live(self.db, task.id, live)
        return Polled(task, live)

    async def _status_error(self, task: TaskRow, exc: WorkerError, now: datetime) -> Polled:
        """One failed check changes nothing; failing for good takes both several checks in a
        row and a grace period, so a worker restart is ridden out at any polling rate."""
        log.warning("status check for task %s failed: %s", task.id, exc)
        run = await store.count_status_error(self.db, task.id, now)
        if run is not None:
            errors, since = run
            lasted = (now - since).total_seconds()
            if (
                errors >= self.settings.status_error_limit
                and lasted >= self.settings.status_error_grace_seconds
            ):
                return await self._fail(
                    task,
                    f"Lost contact with the synthesis worker for {lasted:.0f} s "
                    f"({errors} failed checks). {exc.public}",
                )
        return Polled(task, Live.kept(task, "status_error"))

    async def _lost(self, task: TaskRow, now: datetime) -> Polled:
        """The worker no longer knows the job (it restarted): resubmit once, then fail."""
        if task.attempts >= MAX_SUBMISSIONS:
            return await self._fail(
                task,
                "The synthesis worker lost this job twice (it may have restarted). "
                "Please try again.",
                cancel_job=False,
            )
        token = await store.claim_lease(self.db, task, now, SUBMIT_LEASE_SECONDS)
        if token is None:
            return Polled(task)
        resubmitted, _ = await self._submit(task.id, task.job_request, token, initial=False)
        return Polled(resubmitted)

    async def _resume_submission(self, task: TaskRow, now: datetime) -> Polled:
        """A pending task with no job: its creator is submitting, or died before it could."""
        token = await store.claim_lease(self.db, task, now, SUBMIT_LEASE_SECONDS)
        if token is None:
            return Polled(task)
        submitted, _ = await self._submit(task.id, task.job_request, token, initial=True)
        return Polled(submitted)

    async def _fail(self, task: TaskRow, error: str, *, cancel_job: bool = True) -> Polled:
        async with self.db.engine.begin() as conn:
            await transition(conn, task.id, TaskStatus.FAILED, error=error)
        if cancel_job and task.job_id:
            self._cancel_job_soon(task.job_id)
        return Polled(await store.load(self.db, task.id))

    # ---- finalize ----------------------------------------------------------------------

    async def _finalize(self, task: TaskRow, status: JobStatus, now: datetime) -> Polled:
        assert task.job_id is not None
        token = await store.claim_lease(self.db, task, now, self.settings.finalize_lease_seconds)
        if token is None:  # another poll is storing the result right now
            return Polled(task, Live.kept(task, "finalizing", 1.0))
        if task.type is TaskType.TRANSCRIBE:
            return await self._finalize_transcription(task, status, token, now)
        key = result_key(task)
        try:
            audio = await store_result(
                self.worker, self.storage, self.settings.scratch_dir, task.job_id, key
            )
        except JobUnknown:
            await store.release_lease(self.db, task.id, token)
            return await self._lost(task, now)
        except EmptyResult as exc:  # failing clears the lease in the same statement
            return await self._fail(task, str(exc), cancel_job=False)
        except (WorkerError, ValueError, OSError) as exc:  # AudioError is a ValueError
            log.warning("fetching the result of task %s failed: %s", task.id, exc)
            await store.release_lease(self.db, task.id, token)
            return Polled(task, Live.kept(task, "result_error", 1.0))
        elapsed = round(status.elapsed_seconds, 2)
        async with self.db.engine.begin() as conn:
            won = await transition(
                conn,
                task.id,
                TaskStatus.COMPLETED,
                where=(T.c.lease_owner == token,),
                result={"audio_url": result_url(task)},
                progress=1.0,
                modal_status="completed",
                modal_elapsed_seconds=elapsed,
                remaining_seconds=0.0,
            )
            if won and task.generation_id:
                await store.record_result(conn, task.generation_id, key, audio, elapsed)
        final = await store.load(self.db, task.id)
        if not won and final.status is not TaskStatus.COMPLETED:
            await self.storage.delete(key)  # cancel (or a deadline) won the race: keep nothing
        self._spawn(self._forget_job(task.job_id))  # stored (or not wanted): the worker may drop it
        return Polled(final)

    async def _finalize_transcription(
        self, task: TaskRow, status: JobStatus, token: str, now: datetime
    ) -> Polled:
        """A transcription's result is JSON: kept in the task's result (and, for a voice's
        check, its warnings on the voice); no audio is stored."""
        assert task.job_id is not None
        try:
            found = await fetch_transcription(self.worker, self.settings.scratch_dir, task.job_id)
        except JobUnknown:
            await store.release_lease(self.db, task.id, token)
            return await self._lost(task, now)
        except (WorkerError, OSError) as exc:
            log.warning("fetching the transcription of task %s failed: %s", task.id, exc)
            await store.release_lease(self.db, task.id, token)
            return Polled(task, Live.kept(task, "result_error", 1.0))
        voice_id = task.metadata.get("voice_id")
        async with self.db.engine.begin() as conn:
            won = await transition(
                conn,
                task.id,
                TaskStatus.COMPLETED,
                where=(T.c.lease_owner == token,),
                result={"transcription": found},
                progress=1.0,
                modal_status="completed",
                modal_elapsed_seconds=round(status.elapsed_seconds, 2),
                remaining_seconds=0.0,
            )
            if won and isinstance(voice_id, str):
                await store.record_voice_warnings(conn, voice_id, task.user_id, found["warnings"])
        self._spawn(self._forget_job(task.job_id))
        return Polled(await store.load(self.db, task.id))

    # ---- cancel and delete -------------------------------------------------------------

    async def cancel(self, task_id: str, user_id: str) -> None:
        task = await store.load(self.db, task_id, user_id)
        if not await self._cancel(task):
            current = await store.load(self.db, task.id)
            raise BadRequest(f"Cannot cancel task with status: {current.status.value}")

    async def delete(self, task_id: str, user_id: str) -> None:
        """Delete a task, cancelling it first if it still runs; its generation stays."""
        task = await store.load(self.db, task_id, user_id)
        if not task.terminal:
            await self._cancel(task)
        await store.delete_task_row(self.db, task.id)
        if task.type in (TaskType.DESIGN_PREVIEW, TaskType.TRANSCRIBE):
            await self.storage.delete(result_key(task))

    async def delete_generation(self, generation_id: str, user_id: str) -> None:
        """Delete a generation and its audio; a task still running for it is cancelled first
        (so no finalizer stores audio for a generation that is gone)."""
        generation = await store.load_generation(self.db, generation_id, user_id)
        for task in await store.active_tasks_of_generation(self.db, generation.id):
            await self._cancel(task)  # lost to a finalizer meanwhile: its audio goes below
        await store.delete_generation_row(self.db, generation.id)
        keys = {generation.audio_object_key, generation_key(user_id, generation.id)}
        for key in keys:
            if key:
                await self.storage.delete(key)

    async def _cancel(self, task: TaskRow) -> bool:
        """Cancel (compare-and-set); True if this call won. The job is cancelled best-effort."""
        async with self.db.engine.begin() as conn:
            won = await transition(conn, task.id, TaskStatus.CANCELLED, error="Cancelled.")
        if won:
            if task.job_id:
                await self._cancel_job(task.job_id)
            # A finalizer may have stored audio before our cancel landed; it is not kept.
            await self.storage.delete(result_key(task))
        return won

    async def _cancel_job(self, job_id: str) -> None:
        try:
            await self.worker.cancel(job_id)
        except WorkerError as exc:  # best effort: the job result will simply never be used
            log.info("cancelling job %s failed: %s", job_id, exc)

    async def _forget_job(self, job_id: str) -> None:
        try:
            await self.worker.forget(job_id)
        except WorkerError as exc:  # best effort: the worker's retention drops it anyway
            log.info("asking the worker to drop job %s failed: %s", job_id, exc)

    def _cancel_job_soon(self, job_id: str) -> None:
        self._spawn(self._cancel_job(job_id))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        job = asyncio.ensure_future(work)
        self._background.add(job)  # keep a reference so the task is not garbage-collected
        job.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background submissions and cancels (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
