"""The machine's status writes: the table of legal transitions and the one compare-and-set.

`transition()` is `UPDATE … WHERE id = ? AND status IN (allowed sources)`: of any number of
concurrent writers exactly one moves a task, and the generation row follows its task in the same
transaction. Only machine.py calls it; nothing else in Vocalis writes a task's status.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from vocalis.api.models import TERMINAL_STATUSES, TaskStatus, utcnow
from vocalis.api.tasks.store import ACTIVE, G, T

# to-status -> the statuses it may be entered from. The one table of legal transitions.
ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PROCESSING: frozenset({TaskStatus.PENDING}),
    TaskStatus.COMPLETED: frozenset({TaskStatus.PROCESSING}),
    TaskStatus.FAILED: frozenset({TaskStatus.PENDING, TaskStatus.PROCESSING}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.PENDING, TaskStatus.PROCESSING}),
}


async def transition(
    conn: AsyncConnection,
    task_id: str,
    to: TaskStatus,
    *,
    where: tuple[Any, ...] = (),
    **values: Any,
) -> bool:
    """Compare-and-set the task's status; the generation follows. True if this call won."""
    sources = [s.value for s in ALLOWED[to]]
    now = utcnow()
    if to in TERMINAL_STATUSES:
        values.setdefault("completed_at", now)
        values.update(lease_owner=None, lease_until=None)
    row = (
        await conn.execute(
            update(T)
            .where(T.c.id == task_id, T.c.status.in_(sources), *where)
            .values(status=to.value, updated_at=now, **values)
            .returning(T.c.generation_id)
        )
    ).first()
    if row is None:
        return False
    if row.generation_id is not None and to is not TaskStatus.PROCESSING:
        generation: dict[str, Any] = {"status": to.value}
        if to in TERMINAL_STATUSES:
            generation["completed_at"] = values["completed_at"]
        if to is TaskStatus.FAILED:
            generation["error_message"] = values.get("error")
        await conn.execute(
            update(G)
            .where(G.c.id == row.generation_id, G.c.status.in_(ACTIVE))
            .values(**generation)
        )
    return True
