"""Storage hygiene, run inside each API process: what was reserved, previewed or counted and
then abandoned is removed once it is old enough (every step is idempotent, so replicas may
sweep at once). What is kept and for how long: docs/choices.md, "Retention"."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from vocalis.api import limits, reservations
from vocalis.api.models import TaskType
from vocalis.api.storage import Storage
from vocalis.api.tasks import Tasks, store
from vocalis.api.tasks.results import result_key

log = logging.getLogger(__name__)


async def sweep_once(tasks: Tasks, storage: Storage, now: datetime) -> dict[str, int]:
    """One pass; how many of each thing went."""
    uploads = await reservations.take_expired(tasks.db, now)
    for key in uploads:
        await storage.delete(key)
    task_rows = await expire_tasks(tasks, now)
    await limits.forget_old_windows(tasks.db, now)
    await limits.forget_old_failures(tasks.db, now, tasks.settings)
    return {"uploads": len(uploads), "task_rows": task_rows}


async def expire_tasks(tasks: Tasks, now: datetime) -> int:
    """Unsaved design previews and transcriptions go, audio and row, after preview_ttl_seconds;
    other finished task rows after task_retention_days (their generations stay in the
    history). Returns how many rows went."""
    settings = tasks.settings
    day_old = now - timedelta(seconds=settings.preview_ttl_seconds)
    previews = await store.finished_before(tasks.db, TaskType.DESIGN_PREVIEW, day_old)
    previews += await store.finished_before(tasks.db, TaskType.TRANSCRIBE, day_old)
    for task in previews:
        await tasks.storage.delete(result_key(task))
    old = await store.finished_before(
        tasks.db, TaskType.GENERATE, now - timedelta(days=settings.task_retention_days)
    )
    gone = [t.id for t in previews + old]
    await store.delete_task_rows(tasks.db, gone)
    return len(gone)


async def run_sweeper(
    tasks: Tasks, storage: Storage, interval: float, clock: Callable[[], datetime]
) -> None:
    """Forever: sweep, then sleep about `interval` (jittered so replicas spread out)."""
    while True:
        try:
            swept = await sweep_once(tasks, storage, clock())
            if any(swept.values()):
                log.info("swept %s", swept)
        except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable
            log.exception("sweeper pass failed")
        await asyncio.sleep(interval * random.uniform(0.8, 1.2))
