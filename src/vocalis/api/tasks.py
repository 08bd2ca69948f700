"""THE task state machine: create + submit, poll (advance), finalize, cancel, delete.

Nothing else writes task status. Every status change is a compare-and-set through
task_states.transition (the one table of legal transitions), and the generation row follows
its task inside the same transaction. Finalization is claimed with a
lease (a conditional UPDATE with an expiry), so any number of concurrent polls — browser tabs,
retrying clients, reconcilers on several replicas — download and store the result once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import BadRequest, NotFound, UpstreamError
from vocalis.api.job_payloads import job_body
from vocalis.api.models import TaskStatus, TaskType, new_id, utcnow
from vocalis.api.task_rows import (
    ACTIVE,
    TERMINAL,
    EmptyResult,
    G,
    T,
    check_active_cap,
    claim_lease,
    load_task,
    poll_statement,
    release_lease,
    result_key,
    result_url,
    store_result,
)
from vocalis.api.task_states import transition
from vocalis.api.worker_client import JobUnknown, WorkerClient, WorkerError
from vocalis.protocol import JobStatus

log = logging.getLogger(__name__)

MAX_SUBMISSIONS = 2  # the first submission plus one resubmission of a lost job
SUBMIT_LEASE_SECONDS = 90.0
PROGRESS_WRITE_STEP = 0.05  # persist progress for the job feed only when it moved this much


@dataclass
class Tasks:
    db: Database
    storage: Any
    worker: WorkerClient
    settings: Settings
    _background: set[Any] = field(default_factory=set)

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
    ) -> dict[str, Any]:
        """Insert (generation +) task, submit the job, mark the task processing.

        With `wait=False` the task is returned pending and submitted in the background; if this
        process dies first, the submit lease expires and the next poll submits it."""
        now, token = utcnow(), new_id()
        task_id, generation_id = new_id(), generation["id"] if generation else None
        async with self.db.engine.begin() as conn:
            await check_active_cap(conn, user_id, self.settings.max_active_tasks)
            if generation:
                await conn.execute(insert(G).values(user_id=user_id, created_at=now, **generation))
            await conn.execute(
                insert(T).values(
                    id=task_id,
                    user_id=user_id,
                    type=type_.value,
                    status=TaskStatus.PENDING.value,
                    generation_id=generation_id,
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
                )
            )
        if not wait:
            self._spawn(self._submit(task_id, job_request, token, initial=True))
            return await load_task(self.db, task_id)
        task = await self._submit(task_id, job_request, token, initial=True)
        if task["status"] == TaskStatus.FAILED.value:
            raise UpstreamError(task["error"])
        return task

    async def _submit(
        self, task_id: str, job_request: dict[str, Any], token: str, *, initial: bool
    ) -> dict[str, Any]:
        """Submit the job under the lease `token`; record the job id, or fail the task."""
        try:
            body = await job_body(job_request, self.storage, self.settings)
            job_id = await self.worker.submit(body)
        except (WorkerError, OSError) as exc:
            verb = "start" if initial else "restart"
            async with self.db.engine.begin() as conn:
                await transition(
                    conn,
                    task_id,
                    TaskStatus.FAILED,
                    where=(T.c.lease_owner == token,),
                    error=f"Could not {verb} synthesis: {exc}",
                )
            return await load_task(self.db, task_id)
        async with self.db.engine.begin() as conn:
            values = dict(
                job_id=job_id,
                attempts=T.c.attempts + 1,
                lease_owner=None,
                lease_until=None,
                modal_status="queued",
                status_errors=0,
                progress=None,
            )
            mine = (T.c.lease_owner == token,)
            if initial:
                won = await transition(conn, task_id, TaskStatus.PROCESSING, where=mine, **values)
            else:  # a resubmission keeps the status; it only swaps the job
                result = await conn.execute(
                    update(T)
                    .where(T.c.id == task_id, T.c.status.in_(ACTIVE), *mine)
                    .values(**values)
                )
                won = result.rowcount == 1
        if not won:  # cancelled (or timed out) while we were submitting
            self._cancel_job_soon(job_id)
        return await load_task(self.db, task_id)

    # ---- poll --------------------------------------------------------------------------

    async def poll(
        self, task_id: str, user_id: str | None, *, stale_before: datetime | None = None
    ) -> dict[str, Any]:
        """Count this check and advance the task by one job-status call (SPEC §2)."""
        now = utcnow()
        params: dict[str, Any] = {"poll_task_id": task_id, "poll_now": now}
        if user_id is not None:
            params["poll_user_id"] = user_id
        if stale_before is not None:
            params["poll_stale_before"] = stale_before
        statement = poll_statement(user_id is not None, stale_before is not None)
        # One round trip: count the check and read the task in a single autocommit statement.
        task = await self.db.returning_one(statement, params)
        if task is None:
            if stale_before is not None:  # the reconciler: someone else just looked at it
                raise NotFound("Task not found.")
            task = await load_task(self.db, task_id, user_id)  # terminal, or NotFound
        if task["status"] in TERMINAL:
            return task
        return await self._advance(task, now)

    async def _advance(self, task: dict[str, Any], now: datetime) -> dict[str, Any]:
        if now >= task["deadline_at"]:
            minutes = round(self.settings.task_timeout_seconds / 60, 1)
            return await self._fail(task, f"Timed out after {minutes:g} minutes.")
        if task["job_id"] is None:
            return await self._resume_submission(task, now)
        try:
            status = await self.worker.status(task["job_id"])
        except JobUnknown:
            return await self._lost(task, now)
        except WorkerError as exc:
            return await self._status_error(task, exc)
        if status.status in ("queued", "running"):
            return await self._running(task, status)
        if status.status == "failed":
            return await self._fail(task, status.error or "Synthesis failed.", cancel_job=False)
        if status.status == "cancelled":
            return await self._fail(task, "The worker cancelled the job.", cancel_job=False)
        return await self._finalize(task, status, now)

    async def _running(self, task: dict[str, Any], status: JobStatus) -> dict[str, Any]:
        live = {
            "modal_status": status.status,
            "progress": status.progress,
            "modal_elapsed_seconds": round(status.elapsed_seconds, 2),
        }
        moved = (status.progress or 0.0) - (task["progress"] or 0.0) >= PROGRESS_WRITE_STEP
        if moved or task["modal_status"] != status.status or task["status_errors"]:
            async with self.db.autocommit() as conn:
                await conn.execute(
                    update(T)
                    .where(T.c.id == task["id"], T.c.status.in_(ACTIVE))
                    .values(status_errors=0, **live)
                )
        return {**task, **live, "status_errors": 0}

    async def _status_error(self, task: dict[str, Any], exc: WorkerError) -> dict[str, Any]:
        async with self.db.autocommit() as conn:
            errors = await conn.scalar(
                update(T)
                .where(T.c.id == task["id"], T.c.status.in_(ACTIVE))
                .values(status_errors=T.c.status_errors + 1, modal_status="status_error")
                .returning(T.c.status_errors)
            )
        if errors is not None and errors >= self.settings.status_error_limit:
            return await self._fail(
                task, f"Lost contact with the synthesis worker after {errors} failed checks: {exc}"
            )
        log.warning("status check for task %s failed: %s", task["id"], exc)
        return {**task, "modal_status": "status_error", "status_errors": errors or 0}

    async def _lost(self, task: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The worker no longer knows the job (it restarted): resubmit once, then fail."""
        if task["attempts"] >= MAX_SUBMISSIONS:
            return await self._fail(
                task,
                "The synthesis worker lost this job twice (it may have restarted). "
                "Please try again.",
                cancel_job=False,
            )
        token = await claim_lease(self.db, task, now, SUBMIT_LEASE_SECONDS)
        if token is None:
            return task
        return await self._submit(task["id"], task["job_request"], token, initial=False)

    async def _resume_submission(self, task: dict[str, Any], now: datetime) -> dict[str, Any]:
        """A pending task with no job: its creator is submitting, or died before it could."""
        token = await claim_lease(self.db, task, now, SUBMIT_LEASE_SECONDS)
        if token is None:
            return task
        return await self._submit(task["id"], task["job_request"], token, initial=True)

    async def _fail(
        self, task: dict[str, Any], error: str, *, cancel_job: bool = True
    ) -> dict[str, Any]:
        async with self.db.engine.begin() as conn:
            await transition(conn, task["id"], TaskStatus.FAILED, error=error)
        if cancel_job and task["job_id"]:
            self._cancel_job_soon(task["job_id"])
        return await load_task(self.db, task["id"])

    # ---- finalize ----------------------------------------------------------------------

    async def _finalize(
        self, task: dict[str, Any], status: JobStatus, now: datetime
    ) -> dict[str, Any]:
        token = await claim_lease(self.db, task, now, self.settings.finalize_lease_seconds)
        if token is None:  # another poll is storing the result right now
            return {**task, "modal_status": "finalizing", "progress": 1.0}
        key = result_key(task)
        try:
            duration = await store_result(
                self.worker, self.storage, self.settings, task["job_id"], key
            )
        except JobUnknown:
            await release_lease(self.db, task["id"], token)
            return await self._lost(task, now)
        except EmptyResult as exc:  # failing clears the lease in the same statement
            return await self._fail(task, str(exc), cancel_job=False)
        except (WorkerError, ValueError, OSError) as exc:  # AudioError is a ValueError
            log.warning("fetching the result of task %s failed: %s", task["id"], exc)
            await release_lease(self.db, task["id"], token)
            return {**task, "modal_status": "result_error", "progress": 1.0}
        done = {
            "result": {"audio_url": result_url(task)},
            "progress": 1.0,
            "modal_status": "completed",
            "modal_elapsed_seconds": round(status.elapsed_seconds, 2),
        }
        async with self.db.engine.begin() as conn:
            won = await transition(
                conn, task["id"], TaskStatus.COMPLETED, where=(T.c.lease_owner == token,), **done
            )
            if won and task["generation_id"]:
                await conn.execute(
                    update(G)
                    .where(G.c.id == task["generation_id"])
                    .values(
                        audio_object_key=key,
                        duration_seconds=round(duration, 3),
                        generation_time_seconds=round(status.elapsed_seconds, 2),
                    )
                )
        final = await load_task(self.db, task["id"])
        if not won and final["status"] != TaskStatus.COMPLETED.value:
            await self.storage.delete(key)  # cancel (or a deadline) won the race: keep nothing
        return final

    # ---- cancel and delete -------------------------------------------------------------

    async def cancel(self, task_id: str, user_id: str) -> None:
        task = await load_task(self.db, task_id, user_id)
        if not await self._cancel(task):
            current = await load_task(self.db, task["id"])
            raise BadRequest(f"Cannot cancel task with status: {current['status']}")

    async def delete(self, task_id: str, user_id: str) -> None:
        """Delete a task, cancelling it first if it still runs; its generation stays."""
        task = await load_task(self.db, task_id, user_id)
        if task["status"] in ACTIVE:
            await self._cancel(task)
        async with self.db.engine.begin() as conn:
            await conn.execute(T.delete().where(T.c.id == task["id"]))
        if task["type"] == TaskType.DESIGN_PREVIEW.value:
            await self.storage.delete(result_key(task))

    async def _cancel(self, task: dict[str, Any]) -> bool:
        """Cancel (compare-and-set); True if this call won. The job is cancelled best-effort."""
        async with self.db.engine.begin() as conn:
            won = await transition(conn, task["id"], TaskStatus.CANCELLED, error="Cancelled.")
        if won:
            if task["job_id"]:
                await self._cancel_job(task["job_id"])
            # A finalizer may have stored audio before our cancel landed; it is not kept.
            await self.storage.delete(result_key(task))
        return won

    async def _cancel_job(self, job_id: str) -> None:
        try:
            await self.worker.cancel(job_id)
        except WorkerError as exc:  # best effort: the job result will simply never be used
            log.info("cancelling job %s failed: %s", job_id, exc)

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
