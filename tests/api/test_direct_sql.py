"""The task poll's statements run straight on the driver return what SQLAlchemy returns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update

from vocalis.api.db import Database, create_database
from vocalis.api.models import Task, User, new_id, utcnow
from vocalis.api.tasks.store import T, load_statement, poll_statement


async def _task(db: Database) -> tuple[str, str]:
    user_id, task_id, now = new_id(), new_id(), utcnow()
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(User).values(id=user_id, email=f"{user_id}@example.com", password_hash="x")
        )
        await conn.execute(
            insert(Task).values(
                id=task_id,
                user_id=user_id,
                type="generate",
                status="processing",
                job_request={"text": "Grüße, ünïcode", "options": {"seed": 7}},
                metadata={"voice_name": "Narrator", "chars": 14},
                job_id="job-1",
                attempts=1,
                status_errors=0,
                poll_count=3,
                modal_status="running",
                modal_elapsed_seconds=1.25,
                progress=0.5,
                deadline_at=now + timedelta(minutes=30),
                created_at=now,
                updated_at=now,
            )
        )
    return user_id, task_id


async def test_direct_row_matches_sqlalchemy(database_url: str) -> None:
    db = create_database(database_url)
    try:
        user_id, task_id = await _task(db)
        now = utcnow()
        params: dict[str, Any] = {
            "poll_task_id": task_id,
            "poll_user_id": user_id,
            "poll_now": now,
        }
        statement = poll_statement(True, False)
        async with db.autocommit() as conn:
            expected = dict((await conn.execute(statement, params)).mappings().one())
        direct = await db.returning_one(statement, params)

        assert direct is not None and set(direct) == {c.key for c in T.c}
        assert direct["poll_count"] == expected["poll_count"] + 1 == 5  # counted again
        assert direct["last_checked_at"] == expected["last_checked_at"] == now
        for key, value in expected.items():
            if key != "poll_count":
                assert direct[key] == value and type(direct[key]) is type(value), key
        assert direct["deadline_at"].utcoffset() == timedelta(0)
        assert direct["job_request"]["options"] == {"seed": 7}

        # Another user's id, or a terminal task, matches no row: the caller's 404 path.
        assert await db.returning_one(statement, {**params, "poll_user_id": new_id()}) is None
        async with db.autocommit() as conn:
            await conn.execute(update(T).where(T.c.id == task_id).values(status="completed"))
        assert await db.returning_one(statement, params) is None
    finally:
        await db.dispose()


async def test_direct_select_matches_sqlalchemy(database_url: str) -> None:
    """A task's load (a coalesced poll's answer) takes the same path as the poll."""
    db = create_database(database_url)
    try:
        user_id, task_id = await _task(db)
        params = {"load_task_id": task_id, "load_user_id": user_id}
        statement = load_statement(True)
        async with db.autocommit() as conn:
            expected = dict((await conn.execute(statement, params)).mappings().one())
        direct = await db.returning_one(statement, params)
        assert direct is not None and set(direct) == {c.key for c in T.c}
        for key, value in expected.items():
            assert direct[key] == value and type(direct[key]) is type(value), key
        assert direct["metadata"] == {"voice_name": "Narrator", "chars": 14}
        # Another user's task is no row (the 404 path); unscoped, the task is found.
        assert await db.returning_one(statement, {**params, "load_user_id": new_id()}) is None
        assert await db.returning_one(load_statement(False), {"load_task_id": task_id})
    finally:
        await db.dispose()
