"""Typed task and generation rows, built where a row is read (never dicts passed around).

A row holds what the database holds. What a poll observed but did not store (the worker's live
status between progress writes, "finalizing" while another poll stores the audio) travels
beside the row as `Live`, and the response model merges the two (schemas.TaskOut).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from vocalis.api.models import TERMINAL_STATUSES, TaskStatus, TaskType


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: str
    user_id: str
    type: TaskType
    status: TaskStatus
    generation_id: str | None
    job_request: dict[str, Any]
    job_id: str | None
    attempts: int
    status_errors: int
    status_error_since: datetime | None
    poll_count: int
    modal_status: str | None
    modal_elapsed_seconds: float | None
    progress: float | None
    segments_ready: int | None
    audio_seconds_ready: float | None
    remaining_seconds: float | None
    result: dict[str, Any] | None
    error: str | None
    metadata: dict[str, Any]
    lease_owner: str | None
    lease_until: datetime | None
    deadline_at: datetime
    last_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Self:
        """From a `tasks` row as SQLAlchemy or the direct driver path returns it."""
        values = {name: row[name] for name in _TASK_COLUMNS}
        values["type"] = TaskType(values["type"])
        values["status"] = TaskStatus(values["status"])
        values["metadata"] = values["metadata"] or {}
        values["job_request"] = values["job_request"] or {}
        return cls(**values)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


_TASK_COLUMNS = tuple(f.name for f in fields(TaskRow))


@dataclass(frozen=True, slots=True)
class Live:
    """What this poll learned from the worker, shown instead of the stored columns."""

    modal_status: str
    progress: float | None = None
    modal_elapsed_seconds: float | None = None
    segments_ready: int | None = None
    audio_seconds_ready: float | None = None
    remaining_seconds: float | None = None

    @classmethod
    def kept(cls, row: TaskRow, modal_status: str, progress: float | None = None) -> Live:
        """A new worker status over what the row already knows."""
        return cls(
            modal_status,
            row.progress if progress is None else progress,
            row.modal_elapsed_seconds,
            row.segments_ready,
            row.audio_seconds_ready,
            row.remaining_seconds,
        )


@dataclass(frozen=True, slots=True)
class Polled:
    """A task as one poll leaves it: the stored row, and what the poll observed on top."""

    row: TaskRow
    live: Live | None = None


@dataclass(frozen=True, slots=True)
class GenerationRef:
    """The parts of a generation the task machine acts on."""

    id: str
    user_id: str
    audio_object_key: str | None
    status: TaskStatus
