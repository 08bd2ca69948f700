"""The bounded job table: submit, status, cancel, results, retention.

State lives in memory on purpose: a restarted worker knows no job (404), which the API treats
as lost and resubmits. Results are WAV files under `jobs_dir/{id}/` (`result.wav`, and each
finished segment as `segments/{n}.wav` while the job is still running), never bytes in memory.
Each job is driven by one asyncio task: fetch the reference (while `queued`), wait for a
synthesis slot, run (`running`), settle. Every status change goes through `_settle` or
`cancel`, and a terminal status never changes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import aiohttp

from vocalis.protocol import JobRequest
from vocalis.worker.errors import (
    AtCapacity,
    ExpiredJob,
    InvalidJob,
    NoSuchSegment,
    RequestTooLarge,
    ResultNotReady,
    UnknownJob,
)
from vocalis.worker.execution import EngineInfo, Executor, Outcome, Run, Work
from vocalis.worker.job import Job
from vocalis.worker.loudness import DEFAULT_LUFS
from vocalis.worker.reference import ReferenceProblem, decode_base64_reference, download_reference
from vocalis.worker.transcribing import TranscriptionExecutor
from vocalis.worker.transcript_check import TranscriptCheck

log = logging.getLogger(__name__)

_TOMBSTONES = 100_000  # expired ids remembered for a 410; beyond that the oldest become 404
_DEFAULT_RUN_SECONDS = 10.0  # Retry-After estimate before any job has finished


class JobRunner:
    def __init__(
        self,
        executor: Executor,
        jobs_dir: Path,
        *,
        capacity: int,
        concurrency: int,
        retention_seconds: float,
        max_ref_bytes: int,
        fetch_timeout_seconds: float,
        output_lufs: float = DEFAULT_LUFS,
        transcription: TranscriptionExecutor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.executor = executor
        self.jobs_dir = jobs_dir
        self.capacity = capacity
        self.concurrency = concurrency
        self.retention = retention_seconds
        self.max_ref_bytes = max_ref_bytes
        self.fetch_timeout = fetch_timeout_seconds
        self.output_lufs = output_lufs
        self.transcription = transcription or TranscriptionExecutor(jobs_dir, enabled=False)
        self.clock = clock
        self.engine: EngineInfo | None = None
        self._jobs: dict[str, Job] = {}
        self._active: set[Job] = set()  # queued or running; bounded by capacity
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._run_seconds = _DEFAULT_RUN_SECONDS  # moving average, for Retry-After
        # Moving average of text characters synthesized per second of running, over completed
        # jobs: what a client needs to estimate a job's time before it has a rate of its own.
        self.chars_per_second: float | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # every job's driver, forgotten ones too
        self.transcript_check = TranscriptCheck(self.transcription)
        self._purger: asyncio.Task[None] | None = None

    async def open(self) -> EngineInfo:
        # Anything here belongs to a previous run, whose jobs nobody can ask about any more.
        shutil.rmtree(self.jobs_dir, ignore_errors=True)
        self.jobs_dir.mkdir(parents=True)
        self.engine = await self.executor.open()
        self._http = aiohttp.ClientSession()
        self._purger = asyncio.ensure_future(self._purge_forever())
        return self.engine

    async def close(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
        # The executor first, so slots stop for good instead of being replaced as their
        # jobs are torn down.
        await self.executor.close()
        await self.transcription.close()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        self._jobs.clear()
        self._active.clear()
        shutil.rmtree(self.jobs_dir, ignore_errors=True)

    # -- the protocol's operations ------------------------------------------------------------

    async def submit(self, request: JobRequest) -> Job:
        if len(self._active) >= self.capacity:
            wait = self.retry_after()
            raise AtCapacity(
                f"The worker is at capacity ({self.capacity} jobs queued or running); "
                f"retry in about {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        transcribe = request.type == "transcribe"
        if transcribe and not self.transcription.info.enabled:
            raise InvalidJob(
                f"This worker cannot transcribe: {self.transcription.info.reason or 'no model'}"
            )
        job_id = str(uuid.uuid4())
        job_dir = self.jobs_dir / job_id
        (job_dir / "segments").mkdir(parents=True)
        with_reference = request.type in ("clone", "transcribe")
        work = Work(
            kind=request.type,
            text=request.text,
            language=request.language,
            out_path=str(job_dir / ("result.json" if transcribe else "result.wav")),
            segments_dir=None if transcribe else str(job_dir / "segments"),
            ref_audio_path=str(job_dir / "reference") if with_reference else None,
            ref_text=request.ref_text,
            instruct=request.instruct,
            options=request.options.model_dump(exclude_none=True),
            loudness=request.options.loudness or "standard",
            output_lufs=(
                request.options.output_lufs
                if request.options.output_lufs is not None
                else self.output_lufs
            ),
        )
        job = Job(job_id, work, job_dir, self.clock(), ref_url=request.ref_audio_url)
        self._jobs[job_id] = job
        self._active.add(job)  # counted against capacity while the reference decodes
        if request.ref_audio_base64 is not None:
            assert work.ref_audio_path is not None
            try:
                await asyncio.to_thread(
                    decode_base64_reference,
                    request.ref_audio_base64,
                    Path(work.ref_audio_path),
                    self.max_ref_bytes,
                )
            except ReferenceProblem as exc:
                self._forget(job)
                raise (RequestTooLarge if exc.too_large else InvalidJob)(str(exc)) from None
        job.task = asyncio.ensure_future(self._drive(job))
        self._tasks.add(job.task)
        job.task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is not None and self._expire(job):
            job = None
        if job is not None:
            return job
        if job_id in self._expired:
            raise ExpiredJob()
        raise UnknownJob()

    def result_path(self, job_id: str) -> Path:
        job = self.get(job_id)
        if job.state != "completed":
            if job.terminal:
                raise ResultNotReady(f"The job is {job.state}; it has no result.")
            raise ResultNotReady()
        return job.result_path

    def segment_path(self, job_id: str, index: int) -> Path:
        """The `index`-th finished segment (from 0); ResultNotReady while it may still come."""
        job = self.get(job_id)
        ready, _ = job.segments
        if 0 <= index < ready:
            return job.segments_dir / f"{index}.wav"
        if index < 0 or job.state == "completed":
            raise NoSuchSegment(f"No such segment; the job has {ready}.")
        if job.terminal:
            raise ResultNotReady(f"The job is {job.state}; segment {index} will not come.")
        raise ResultNotReady(f"Segment {index} is not ready yet ({ready} are).")

    def forget(self, job_id: str) -> None:
        """Drop a job and its files (the API has stored what it needed); a running job is
        cancelled first. Idempotent: a job already forgotten or expired is left as it is."""
        try:
            job = self.get(job_id)
        except ExpiredJob:
            return
        self.cancel(job_id)
        winding_down = job.task is not None and not job.task.done()
        self._tombstone(job, remove_files=not winding_down)
        if winding_down and job.task is not None:
            # A thread stops only at its next chunk and may write until then: its files go
            # when it ends.
            job.task.add_done_callback(lambda _task: shutil.rmtree(job.dir, ignore_errors=True))

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job; a terminal job is left as it is (idempotent)."""
        job = self.get(job_id)
        if job.terminal:
            return job
        job._progress = job.progress
        job._segments = job.segments
        job.state = "cancelled"
        job.finished = self.clock()
        self._active.discard(job)
        job.cancel_requested.set()
        if job.run is not None:
            job.run.cancel()
        return job

    def counts(self) -> tuple[int, int]:
        """(queued, running)"""
        running = sum(1 for job in self._active if job.state == "running")
        return len(self._active) - running, running

    def retry_after(self) -> int:
        """Seconds until a slot likely frees: an average job's time spread over the slots."""
        return max(1, min(300, math.ceil(self._run_seconds / self.concurrency)))

    # -- driving one job ----------------------------------------------------------------------

    async def _drive(self, job: Job) -> None:
        acquire = asyncio.ensure_future(self._acquire(job))
        cancelled = asyncio.ensure_future(job.cancel_requested.wait())
        try:
            await asyncio.wait({acquire, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if not acquire.done():
                acquire.cancel()
                await asyncio.wait({acquire})
        if acquire.cancelled():
            return self._clean(job)  # cancelled while queued; cancel() already settled it
        problem = acquire.exception()
        if problem is not None:
            if isinstance(problem, ReferenceProblem):
                self._settle(job, Outcome("failed", error=str(problem)))
            else:
                log.error("job %s could not start", job.id, exc_info=problem)
                self._settle(job, Outcome("failed", error="The job could not be started."))
            return self._clean(job)
        run = acquire.result()
        job.run = run
        started = self.clock()
        if job.terminal:  # cancelled in the instant the slot was granted
            run.cancel()
        else:
            job.state = "running"
            job.started = started
        try:
            outcome = await run.wait()
        finally:
            job._progress = run.progress
            job._segments = run.segments
            job.run = None
        elapsed = self.clock() - started
        if outcome.status != "cancelled":
            self._run_seconds = 0.8 * self._run_seconds + 0.2 * elapsed
        if outcome.status == "completed" and elapsed > 0 and job.work.kind != "transcribe":
            rate = len(job.work.text) / elapsed
            self.chars_per_second = (
                rate if self.chars_per_second is None else 0.8 * self.chars_per_second + 0.2 * rate
            )
        self._settle(job, outcome)
        self._clean(job)

    async def _acquire(self, job: Job) -> Run:
        if job.ref_url is not None:
            assert self._http is not None and job.work.ref_audio_path is not None
            await download_reference(
                self._http,
                job.ref_url,
                Path(job.work.ref_audio_path),
                max_bytes=self.max_ref_bytes,
                timeout=self.fetch_timeout,
            )
        if job.work.kind == "transcribe":
            return await self.transcription.start(job.work)
        assert self.engine is not None
        job.work, warnings = await self.transcript_check.checked(
            job.work, self.engine.exact_transcript
        )
        if warnings:
            job.warnings = warnings
        return await self.executor.start(job.work)

    def _settle(self, job: Job, outcome: Outcome) -> None:
        if job.terminal:  # cancelled meanwhile: a late result is discarded, not published
            job.result_path.unlink(missing_ok=True)
            return
        job.state = outcome.status
        job.finished = self.clock()
        self._active.discard(job)
        job.error = outcome.error
        if outcome.status == "completed":
            job._progress = 1.0
            job.duration_seconds = outcome.duration_seconds

    def _clean(self, job: Job) -> None:
        if job.work.ref_audio_path is not None:
            Path(job.work.ref_audio_path).unlink(missing_ok=True)

    # -- retention ----------------------------------------------------------------------------

    def purge_expired(self) -> None:
        for job in list(self._jobs.values()):
            self._expire(job)

    def _expire(self, job: Job) -> bool:
        """Forget `job` if its retention is over, leaving a tombstone for a 410."""
        if job.finished is None or self.clock() - job.finished < self.retention:
            return False
        if job.task is not None and not job.task.done():
            return False  # a cancelled run still winding down owns its files
        self._tombstone(job)
        return True

    def _tombstone(self, job: Job, remove_files: bool = True) -> None:
        """Forget `job`, remembering its id for a 410."""
        self._forget(job, remove_files)
        self._expired[job.id] = None
        while len(self._expired) > _TOMBSTONES:
            self._expired.popitem(last=False)

    def _forget(self, job: Job, remove_files: bool = True) -> None:
        self._jobs.pop(job.id, None)
        self._active.discard(job)
        if remove_files:
            shutil.rmtree(job.dir, ignore_errors=True)

    async def _purge_forever(self) -> None:
        interval = min(60.0, max(0.05, self.retention / 4))
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(OSError):
                self.purge_expired()
