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

from vocalis.api.tasks import store
from vocalis.api.tasks.machine import Tasks

log = logging.getLogger(__name__)


async def reconcile_once(tasks: Tasks, *, interval: float, limit: int = 50) -> int:
    """Advance up to `limit` stale non-terminal tasks; returns how many were looked at."""
    now = tasks.clock()
    stale_before = now - timedelta(seconds=interval)
    # A task younger than 2 s is its creator's to submit first.
    ids = await store.stale_task_ids(tasks.db, stale_before, now - timedelta(seconds=2), limit)
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
