"""Task rows without their status: the tables, the poll's statement, the active-task cap,
leases, reads, and storing a result. Status writes go through task_states.transition, from
tasks.py alone; nothing here changes `status`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy import BindParameter, Table, Update, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import Conflict, NotFound
from vocalis.api.models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Generation,
    Task,
    TaskType,
    User,
    new_id,
)
from vocalis.api.uploads import scratch_dir
from vocalis.api.worker_client import WorkerClient

T = cast(Table, Task.__table__)
G = cast(Table, Generation.__table__)
ACTIVE = tuple(s.value for s in ACTIVE_STATUSES)
TERMINAL = tuple(s.value for s in TERMINAL_STATUSES)


@functools.cache
def poll_statement(owned: bool, stale: bool) -> Update:
    """The poll's UPDATE … RETURNING, built once per shape: the database layer compiles it
    once per statement object (direct_sql.py). Building it per poll, with an expanding
    `status IN (…)` that SQLAlchemy re-renders at every execution, was a third of a poll's CPU
    (bench/poll.py). Parameter names differ from column names: in an UPDATE, a parameter
    named like a column would become a SET clause."""
    where = [
        T.c.id == bindparam("poll_task_id"),
        T.c.status.in_([literal(s) for s in ACTIVE]),  # plain binds: compiled once, cached
    ]
    if owned:
        where.append(T.c.user_id == bindparam("poll_user_id"))
    if stale:  # reconciler: skip tasks someone just looked at
        stale_before: BindParameter[datetime] = bindparam("poll_stale_before")
        where.append(T.c.last_checked_at.is_(None) | (T.c.last_checked_at < stale_before))
    return (
        update(T)
        .where(*where)
        .values(poll_count=T.c.poll_count + 1, last_checked_at=bindparam("poll_now"))
        .returning(*T.c)
    )


def result_key(task: Mapping[str, Any]) -> str:
    """Deterministic, so a finalization retried after a lost lease rewrites the same object."""
    if task["type"] == TaskType.GENERATE.value:
        return f"generations/{task['user_id']}/{task['generation_id']}.wav"
    return f"previews/{task['user_id']}/{task['id']}.wav"


def result_url(task: Mapping[str, Any]) -> str:
    if task["type"] == TaskType.GENERATE.value:
        return f"/api/generations/{task['generation_id']}/audio"
    return f"/api/tasks/{task['id']}/audio"


async def claim_lease(
    db: Database, task: Mapping[str, Any], now: datetime, seconds: float
) -> str | None:
    """Take the task's lease if nobody holds a live one and the task still has the job we
    saw (a poll that read it a moment ago must not act on a job another poll replaced).
    Returns the lease token."""
    token = new_id()
    job = T.c.job_id.is_(None) if task["job_id"] is None else T.c.job_id == task["job_id"]
    async with db.autocommit() as conn:
        claimed = await conn.execute(
            update(T)
            .where(
                T.c.id == task["id"],
                T.c.status.in_(ACTIVE),
                job,
                T.c.lease_until.is_(None) | (T.c.lease_until < now),
            )
            .values(lease_owner=token, lease_until=now + timedelta(seconds=seconds))
        )
    return token if claimed.rowcount == 1 else None


async def release_lease(db: Database, task_id: str, token: str) -> None:
    async with db.autocommit() as conn:
        await conn.execute(
            update(T)
            .where(T.c.id == task_id, T.c.lease_owner == token)
            .values(lease_owner=None, lease_until=None)
        )


async def load_task(db: Database, task_id: str, user_id: str | None = None) -> dict[str, Any]:
    """The task row (scoped to `user_id` when given), or NotFound."""
    scope = [T.c.id == task_id] + ([T.c.user_id == user_id] if user_id is not None else [])
    async with db.autocommit() as conn:
        row = (await conn.execute(select(T).where(*scope))).mappings().first()
    if row is None:
        raise NotFound("Task not found.")
    return dict(row)


async def check_active_cap(conn: AsyncConnection, user_id: str, cap: int) -> None:
    """Conflict when the user already has `cap` pending/processing tasks. Locks the user's
    row so concurrent creates count one after another (PostgreSQL; SQLite transactions are
    already serialized by BEGIN IMMEDIATE)."""
    await conn.execute(select(User.id).where(User.id == user_id).with_for_update())
    active = await conn.scalar(
        select(func.count()).select_from(T).where(T.c.user_id == user_id, T.c.status.in_(ACTIVE))
    )
    if (active or 0) >= cap:
        raise Conflict(
            f"You already have {active} tasks running; the limit is {cap}. "
            "Wait for one to finish or cancel one."
        )


class EmptyResult(Exception):
    """The worker finished a job with a valid WAV that holds no audio: nothing to store."""


async def store_result(
    worker: WorkerClient, storage: Any, settings: Settings, job_id: str, key: str
) -> float:
    """Download a finished job's audio to a scratch file and store it at `key`; its seconds.

    EmptyResult (nothing stored) when the audio has no samples: a completed job's result does
    not change, so retrying cannot help."""
    from vocalis.audio import wav_duration  # numpy + PyAV: loaded on first use, not at import

    async with scratch_dir(settings.data_dir / "tmp") as tmp:
        path = tmp / "result.wav"
        await worker.download(job_id, path)
        duration = await anyio.to_thread.run_sync(wav_duration, path)
        if duration <= 0:
            raise EmptyResult("The worker finished the job but returned no audio.")
        await storage.put_file(key, path, "audio/wav")
    return duration
