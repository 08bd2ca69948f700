"""Advances tasks nobody is polling, through the same code path as a poll.

Safe with many API replicas: a replica only picks tasks not checked for an interval, the poll's
own conditional UPDATE makes a second replica skip a task the first just took, and the
finalization lease keeps the result download exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from sqlalchemy import select

from vocalis.api.models import utcnow
from vocalis.api.task_rows import ACTIVE, T
from vocalis.api.tasks import Tasks

log = logging.getLogger(__name__)


async def reconcile_once(tasks: Tasks, *, interval: float, limit: int = 50) -> int:
    """Advance up to `limit` stale non-terminal tasks; returns how many were looked at."""
    now = utcnow()
    stale_before = now - timedelta(seconds=interval)
    async with tasks.db.engine.connect() as conn:
        ids = (
            await conn.scalars(
                select(T.c.id)
                .where(
                    T.c.status.in_(ACTIVE),
                    T.c.last_checked_at.is_(None) | (T.c.last_checked_at < stale_before),
                    T.c.created_at < now - timedelta(seconds=2),  # let the creator submit first
                )
                .order_by(T.c.last_checked_at.asc().nulls_first())
                .limit(limit)
            )
        ).all()
    for task_id in ids:
        try:
            await tasks.poll(task_id, None, stale_before=stale_before)
        except Exception:  # noqa: BLE001 - one bad task must not stop the loop
            log.exception("reconciling task %s failed", task_id)
    return len(ids)


async def run_reconciler(tasks: Tasks, interval: float) -> None:
    """Forever: reconcile, then sleep about `interval` (jittered so replicas spread out)."""
    while True:
        try:
            await reconcile_once(tasks, interval=interval)
        except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable
            log.exception("reconciler pass failed")
        await asyncio.sleep(interval * random.uniform(0.8, 1.2))
