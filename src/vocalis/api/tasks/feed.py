"""The job feed (`GET /api/tasks`): a user's tasks newest first, keyset-paginated by an opaque
cursor of (created_at, id), so pages stay stable while tasks are created."""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import and_, or_, select

from vocalis.api.db import Database
from vocalis.api.errors import BadRequest
from vocalis.api.tasks.rows import TaskRow
from vocalis.api.tasks.store import ACTIVE, TERMINAL, T


def encode_cursor(row: TaskRow) -> str:
    raw = f"{row.created_at.isoformat()}~{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, sep, task_id = raw.partition("~")
        if not sep or not task_id:
            raise ValueError
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError
        return when, task_id
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Invalid cursor: pass the `next_before` of a previous page.") from None


async def task_page(
    db: Database, user_id: str, *, status: str, type_: str | None, limit: int, before: str | None
) -> tuple[list[TaskRow], str | None]:
    """The user's tasks newest first, `limit` at a time, after the keyset cursor `before`."""
    where = [T.c.user_id == user_id]
    if status == "active":
        where.append(T.c.status.in_(ACTIVE))
    elif status == "terminal":
        where.append(T.c.status.in_(TERMINAL))
    if type_:
        where.append(T.c.type == type_)
    if before:
        when, task_id = decode_cursor(before)
        where.append(or_(T.c.created_at < when, and_(T.c.created_at == when, T.c.id < task_id)))
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(T)
                .where(*where)
                .order_by(T.c.created_at.desc(), T.c.id.desc())
                .limit(limit + 1)
            )
        ).mappings()
        page = [TaskRow.from_row(r) for r in rows]
    more = len(page) > limit
    page = page[:limit]
    return page, encode_cursor(page[-1]) if more else None
