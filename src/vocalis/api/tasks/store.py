"""The task store: SQL only. Typed rows in and out; no decisions, and no status writes (those
are the machine's, in transitions.py).

Holds the poll's one statement (count the check and read the task in a single round trip),
leases, reads, inserts, the active-task cap and the reconciler's scan; the job feed's query is
in feed.py.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from vocalis.api.db import Database
from vocalis.api.errors import Conflict, NotFound
from vocalis.api.models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Generation,
    Task,
    TaskStatus,
    TaskType,
    User,
    Voice,
    new_id,
)
from vocalis.api.tasks.results import StoredAudio
from vocalis.api.tasks.rows import GenerationRef, Live, TaskRow

T = cast(Table, Task.__table__)
G = cast(Table, Generation.__table__)
ACTIVE = tuple(s.value for s in ACTIVE_STATUSES)
TERMINAL = tuple(s.value for s in TERMINAL_STATUSES)


def not_checked_since(when: ColumnElement[datetime] | datetime) -> ColumnElement[bool]:
    """Tasks whose worker status nobody has checked since `when` (polls and the reconciler)."""
    return T.c.last_checked_at.is_(None) | (T.c.last_checked_at < when)


# ---- the poll --------------------------------------------------------------------------------


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
    if stale:
        stale_before: BindParameter[datetime] = bindparam("poll_stale_before")
        where.append(not_checked_since(stale_before))
    return (
        update(T)
        .where(*where)
        .values(poll_count=T.c.poll_count + 1, last_checked_at=bindparam("poll_now"))
        .returning(*T.c)
    )


async def count_check(
    db: Database,
    task_id: str,
    user_id: str | None,
    now: datetime,
    stale_before: datetime | None = None,
) -> TaskRow | None:
    """Count one status check of a non-terminal task (scoped to `user_id` when given; only if
    nobody checked it since `stale_before` when given) and return it — one autocommit round
    trip. None when no such task qualifies."""
    params: dict[str, Any] = {"poll_task_id": task_id, "poll_now": now}
    if user_id is not None:
        params["poll_user_id"] = user_id
    if stale_before is not None:
        params["poll_stale_before"] = stale_before
    statement = poll_statement(user_id is not None, stale_before is not None)
    row = await db.returning_one(statement, params)
    return TaskRow.from_row(row) if row is not None else None


# ---- reads -----------------------------------------------------------------------------------


@functools.cache
def load_statement(owned: bool) -> Select[Any]:
    """The task's SELECT, built once per shape for the direct driver path (poll_statement)."""
    where = [T.c.id == bindparam("load_task_id")]
    if owned:
        where.append(T.c.user_id == bindparam("load_user_id"))
    return select(T).where(*where)


async def load(db: Database, task_id: str, user_id: str | None = None) -> TaskRow:
    """The task (scoped to `user_id` when given), or NotFound. One statement on the direct
    driver path: a coalesced poll, and every poll of a finished task, is count_check and
    this (through a SQLAlchemy connection it cost a coalesced poll 1.38 ms of API CPU on
    PostgreSQL and 2.75 on SQLite, against 0.77 for a full poll: bench/poll.py --poll-rate 4)."""
    params = {"load_task_id": task_id}
    if user_id is not None:
        params["load_user_id"] = user_id
    row = await db.returning_one(load_statement(user_id is not None), params)
    if row is None:
        raise NotFound("Task not found.")
    return TaskRow.from_row(row)


async def stale_task_ids(
    db: Database, stale_before: datetime, created_before: datetime, limit: int
) -> Sequence[str]:
    """Non-terminal tasks nobody checked since `stale_before`, least recently checked first."""
    async with db.engine.connect() as conn:
        ids = await conn.scalars(
            select(T.c.id)
            .where(
                T.c.status.in_(ACTIVE),
                not_checked_since(stale_before),
                T.c.created_at < created_before,
            )
            .order_by(T.c.last_checked_at.asc().nulls_first())
            .limit(limit)
        )
        return ids.all()


async def load_generation(db: Database, generation_id: str, user_id: str) -> GenerationRef:
    async with db.autocommit() as conn:
        row = (
            await conn.execute(
                select(G.c.id, G.c.user_id, G.c.audio_object_key, G.c.status).where(
                    G.c.id == generation_id, G.c.user_id == user_id
                )
            )
        ).first()
    if row is None:
        raise NotFound("Generation not found.")
    return GenerationRef(row.id, row.user_id, row.audio_object_key, TaskStatus(row.status))


async def task_of_generation(db: Database, generation_id: str) -> TaskRow | None:
    """The task that makes a generation (the newest, should there be several)."""
    async with db.autocommit() as conn:
        row = (
            (
                await conn.execute(
                    select(T)
                    .where(T.c.generation_id == generation_id)
                    .order_by(T.c.created_at.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
    return TaskRow.from_row(row) if row is not None else None


async def active_tasks_of_generation(db: Database, generation_id: str) -> list[TaskRow]:
    async with db.autocommit() as conn:
        rows = await conn.execute(
            select(T).where(T.c.generation_id == generation_id, T.c.status.in_(ACTIVE))
        )
        return [TaskRow.from_row(r) for r in rows.mappings()]


# ---- creating --------------------------------------------------------------------------------


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


async def insert_generation(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(G).values(**values))


async def insert_task(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(T).values(**values))


# ---- leases and running state ----------------------------------------------------------------


async def claim_lease(db: Database, task: TaskRow, now: datetime, seconds: float) -> str | None:
    """Take the task's lease if nobody holds a live one and the task still has the job we
    saw (a poll that read it a moment ago must not act on a job another poll replaced).
    Returns the lease token."""
    token = new_id()
    job = T.c.job_id.is_(None) if task.job_id is None else T.c.job_id == task.job_id
    async with db.autocommit() as conn:
        claimed = await conn.execute(
            update(T)
            .where(
                T.c.id == task.id,
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


def submitted(job_id: str) -> dict[str, Any]:
    """The columns a (re)submission under a lease sets: the new job, lease released."""
    return dict(
        job_id=job_id,
        attempts=T.c.attempts + 1,
        lease_owner=None,
        lease_until=None,
        modal_status="queued",
        status_errors=0,
        status_error_since=None,
        progress=None,
        segments_ready=None,
        audio_seconds_ready=None,
    )


async def swap_job(conn: AsyncConnection, task_id: str, token: str, job_id: str) -> bool:
    """A resubmission: the still-active task held under `token` gets a new job; its status
    stays. True if the task was still ours."""
    result = await conn.execute(
        update(T)
        .where(T.c.id == task_id, T.c.status.in_(ACTIVE), T.c.lease_owner == token)
        .values(**submitted(job_id))
    )
    return result.rowcount == 1


async def record_live(db: Database, task_id: str, live: Live) -> None:
    """Persist what the worker reported (the job feed and coalesced polls show it), clearing
    the error count."""
    async with db.autocommit() as conn:
        await conn.execute(
            update(T)
            .where(T.c.id == task_id, T.c.status.in_(ACTIVE))
            .values(
                status_errors=0,
                status_error_since=None,
                modal_status=live.modal_status,
                progress=live.progress,
                modal_elapsed_seconds=live.modal_elapsed_seconds,
                segments_ready=live.segments_ready,
                audio_seconds_ready=live.audio_seconds_ready,
                remaining_seconds=live.remaining_seconds,
            )
        )


async def count_status_error(
    db: Database, task_id: str, now: datetime
) -> tuple[int, datetime] | None:
    """One more consecutive failed status check: the run's count and when it began (None: the
    task is no longer active)."""
    async with db.autocommit() as conn:
        row = (
            await conn.execute(
                update(T)
                .where(T.c.id == task_id, T.c.status.in_(ACTIVE))
                .values(
                    status_errors=T.c.status_errors + 1,
                    status_error_since=func.coalesce(
                        T.c.status_error_since, literal(now, T.c.status_error_since.type)
                    ),
                    modal_status="status_error",
                )
                .returning(T.c.status_errors, T.c.status_error_since)
            )
        ).first()
    return (row.status_errors, row.status_error_since) if row is not None else None


async def record_result(
    conn: AsyncConnection,
    generation_id: str,
    key: str,
    audio: StoredAudio,
    generation_time_seconds: float,
) -> None:
    await conn.execute(
        update(G)
        .where(G.c.id == generation_id)
        .values(
            audio_object_key=key,
            audio_bytes=audio.bytes,
            duration_seconds=round(audio.seconds, 3),
            generation_time_seconds=round(generation_time_seconds, 2),
        )
    )


async def record_voice_warnings(
    conn: AsyncConnection, voice_id: str, user_id: str, warnings: list[dict[str, Any]]
) -> None:
    await conn.execute(
        update(Voice)
        .where(Voice.id == voice_id, Voice.user_id == user_id)
        .values(warnings=warnings)
    )


# ---- deleting --------------------------------------------------------------------------------


async def delete_task_row(db: Database, task_id: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(delete(T).where(T.c.id == task_id))


async def delete_generation_row(db: Database, generation_id: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(delete(G).where(G.c.id == generation_id))


async def finished_before(
    db: Database, type_: TaskType, before: datetime, limit: int = 500
) -> list[TaskRow]:
    """Terminal tasks of a type that finished before `before` (the sweeper's retention)."""
    async with db.autocommit() as conn:
        rows = await conn.execute(
            select(T)
            .where(T.c.type == type_.value, T.c.status.in_(TERMINAL), T.c.completed_at < before)
            .limit(limit)
        )
        return [TaskRow.from_row(r) for r in rows.mappings()]


async def delete_task_rows(db: Database, task_ids: Sequence[str]) -> None:
    if task_ids:
        async with db.engine.begin() as conn:
            await conn.execute(delete(T).where(T.c.id.in_(list(task_ids))))
