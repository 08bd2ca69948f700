"""One job of the worker's table (jobs.py): what it runs, where its files are, its status.

Its state only changes through JobRunner (`_settle`, `cancel`); `status` is the protocol's view
of it at a moment, with the live progress of its run while it runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from vocalis.protocol import TERMINAL_STATES, JobState, JobStatus, ReferenceWarning
from vocalis.worker.execution import Run, Work


@dataclass(eq=False)  # identity: jobs live in sets
class Job:
    id: str
    work: Work
    dir: Path
    submitted: float
    ref_url: str | None = None
    state: JobState = "queued"
    started: float | None = None  # when it got a synthesis slot
    finished: float | None = None
    error: str | None = None
    duration_seconds: float | None = None
    run: Run | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    _progress: float = 0.0
    _segments: tuple[int, float] = (0, 0.0)  # frozen here once the run is over
    warnings: list[ReferenceWarning] | None = None

    @property
    def result_path(self) -> Path:
        return Path(self.work.out_path)

    @property
    def segments_dir(self) -> Path:
        return self.dir / "segments"

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def progress(self) -> float:
        return self.run.progress if self.run is not None and not self.terminal else self._progress

    @property
    def segments(self) -> tuple[int, float]:
        """(segments finished, seconds of audio in them); they stay readable once the job ends."""
        return self.run.segments if self.run is not None else self._segments

    def status(self, now: float) -> JobStatus:
        progress = self.progress
        ready, audio_seconds = self.segments
        chars = len(self.work.text)
        running_until = self.finished or now
        return JobStatus(
            job_id=self.id,
            status=self.state,
            result_ready=self.state == "completed",
            elapsed_seconds=round((self.finished or now) - self.submitted, 3),
            progress=round(progress, 4),
            error=self.error,
            duration_seconds=self.duration_seconds,
            segments_ready=ready,
            audio_seconds_ready=round(audio_seconds, 3),
            running_seconds=(
                None if self.started is None else round(running_until - self.started, 3)
            ),
            text_chars_done=round(progress * chars),
            text_chars_total=chars,
            warnings=self.warnings,
        )
