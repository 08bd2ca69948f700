"""The worker's ASGI app: job protocol v1 (SPEC.md §5) over a `JobRunner`.

The same factory serves `vocalis worker` and the Modal deployment (with an injected GPU
engine), so it assumes nothing about forking: an injected engine runs in threads.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from vocalis.error_handlers import install_error_handlers
from vocalis.errors import describe_validation_errors
from vocalis.protocol import Health, JobAccepted, JobRequest, JobStatus
from vocalis.worker.config import WorkerSettings
from vocalis.worker.engines.base import Engine
from vocalis.worker.errors import ExpiredJob, InvalidJob, RequestTooLarge, Unauthorized
from vocalis.worker.execution import Executor, ThreadExecutor
from vocalis.worker.jobs import JobRunner
from vocalis.worker.processes import ProcessExecutor
from vocalis.worker.transcribing import TranscriptionExecutor

log = logging.getLogger(__name__)

_JSON_OVERHEAD = 1024 * 1024  # room for text, transcript and options beside an inline reference
_READ_CHUNK = 256 * 1024


def _build_executor(settings: WorkerSettings, engine: Engine | None) -> tuple[Executor, int]:
    """Processes for the CPU engine by name; threads for GPU engines and injected instances."""
    mode = settings.execution
    if mode == "auto":
        mode = "process" if engine is None and settings.engine == "local" else "thread"
    if mode == "process":
        if engine is not None:
            raise ValueError("an injected engine instance cannot run in worker processes")
        concurrency = settings.concurrency or os.cpu_count() or 1
        options = dict(settings.engine_options)
        if settings.engine == "local":
            # Every slot's Kokoro may use every core: a job alone (a laptop's usual case) renders
            # 1.6x sooner, which is what its first audio waits on; with every slot busy they
            # share the cores (~13 % less throughput than one thread each; docs/choices.md).
            options.setdefault("threads", os.cpu_count() or 1)
        executor: Executor = ProcessExecutor(
            settings.engine,
            options,
            concurrency=concurrency,
            cancel_grace=settings.cancel_grace_seconds,
            start_timeout=settings.engine_start_timeout_seconds,
        )
        return executor, concurrency
    if engine is None:
        from vocalis.worker.engines import load_engine

        engine = load_engine(settings.engine, **settings.engine_options)
    concurrency = settings.concurrency or 1
    return ThreadExecutor(engine, concurrency), concurrency


# The dependencies are `async def` although they never await: FastAPI runs a plain `def`
# dependency in a thread pool, and those two thread hops per request doubled the worker's CPU
# per status call (0.59 against 0.29 ms, bench/poll.py).
async def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


Runner = Annotated[JobRunner, Depends(_runner)]


async def _require_token(request: Request) -> None:
    expected = request.app.state.settings.token
    if expected is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized(headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(prefix="/v1", dependencies=[Depends(_require_token)])


@router.post("/jobs", status_code=202, response_model=JobAccepted)
async def submit_job(request: Request, runner: Runner) -> JobAccepted:
    """Queue a synthesis job."""
    payload = await _read_job_request(request, runner.max_ref_bytes * 4 // 3 + _JSON_OVERHEAD)
    job = await runner.submit(payload)
    return JobAccepted(job_id=job.id, status=job.state)


@router.get("/jobs/{job_id}", response_model=JobStatus)
async def job_status(job_id: str, runner: Runner) -> JobStatus:
    """A job's status and progress."""
    return runner.get(job_id).status(runner.clock())


@router.get("/jobs/{job_id}/result", response_class=StreamingResponse)
async def job_result(job_id: str, runner: Runner) -> StreamingResponse:
    """The finished audio as a WAV stream (a transcribe job: its result as JSON)."""
    return _file_response(runner.result_path(job_id))


@router.get("/jobs/{job_id}/segments/{index}", response_class=StreamingResponse)
async def job_segment(job_id: str, index: str, runner: Runner) -> StreamingResponse:
    """A finished segment of the audio (from 0) as WAV, while the job runs or after."""
    # Parsed here so a malformed index is a 404 like any other missing segment, not a 422.
    number = int(index) if index.isdigit() and len(index) < 10 else -1
    return _file_response(runner.segment_path(job_id, number))


@router.delete("/jobs/{job_id}", status_code=204)
async def forget_job(job_id: str, runner: Runner) -> Response:
    """Drop a job and its files, cancelling it if it still runs (idempotent)."""
    runner.forget(job_id)
    return Response(status_code=204)


@router.post("/jobs/{job_id}/cancel", response_model=JobStatus)
async def cancel_job(job_id: str, runner: Runner) -> JobStatus:
    """Cancel a job (idempotent; a finished job stays as it is)."""
    return runner.cancel(job_id).status(runner.clock())


@router.get("/health", response_model=Health)
async def health(runner: Runner) -> Health:
    """Engine, languages, queue depth and capacity."""
    assert runner.engine is not None
    queued, running = runner.counts()
    return Health(
        engine=runner.engine.name,
        languages=list(runner.engine.languages),
        sample_rate=runner.engine.sample_rate,
        queue_depth=queued,
        running=running,
        capacity=runner.capacity,
        concurrency=runner.concurrency,
        bases={name: list(languages) for name, languages in runner.engine.bases.items()},
        chars_per_second=(
            None if runner.chars_per_second is None else round(runner.chars_per_second, 2)
        ),
        transcription=runner.transcription.info,
    )


def _file_response(path: Path) -> StreamingResponse:
    # A transcribe job's result is its JSON document; everything else is audio.
    media_type = "application/json" if path.suffix == ".json" else "audio/wav"
    try:
        # Opened here, so a purge racing this request still streams a whole file.
        handle = path.open("rb")
    except FileNotFoundError:
        raise ExpiredJob() from None
    size = os.fstat(handle.fileno()).st_size
    return StreamingResponse(
        _chunks(handle),
        media_type=media_type,
        headers={"Content-Length": str(size), "Cache-Control": "no-store"},
    )


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    # A sync iterator: Starlette runs it in a thread, so disk reads never block the loop.
    with handle:
        while chunk := handle.read(_READ_CHUNK):
            yield chunk


async def _read_job_request(request: Request, limit: int) -> JobRequest:
    """The body, size-capped while it streams in, validated into a JobRequest.

    Parsed here rather than by FastAPI so the token is checked before the body is read and a
    bad payload gets one readable sentence.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge("The job request is too large; send large references by URL.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestTooLarge("The job request is too large; send large references by URL.")
    try:
        return JobRequest.model_validate_json(bytes(body))
    except ValidationError as exc:
        raise InvalidJob(describe_validation_errors(exc.errors(include_url=False))) from None


def create_worker_app(settings: WorkerSettings, engine: Engine | None = None) -> FastAPI:
    """The job-protocol app. `engine`: an already-loaded engine (Modal: Qwen3-TTS on the GPU),
    run in threads; otherwise `settings.engine` is loaded (the CPU engine in processes)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        executor, concurrency = _build_executor(settings, engine)
        owned_dir = settings.results_dir is None
        root = Path(tempfile.mkdtemp(prefix="vocalis-worker-")) if owned_dir else None
        jobs_dir = (root or settings.results_dir or Path()) / "jobs"
        models_dir = settings.models_dir or (root or settings.results_dir or Path()) / "models"
        transcription = TranscriptionExecutor(
            models_dir, settings.transcription_threads, enabled=settings.transcription
        )
        runner = JobRunner(
            executor,
            jobs_dir,
            capacity=settings.capacity,
            concurrency=concurrency,
            retention_seconds=settings.retention_seconds,
            max_ref_bytes=settings.max_ref_bytes,
            fetch_timeout_seconds=settings.fetch_timeout_seconds,
            output_lufs=settings.output_lufs,
            transcription=transcription,
        )
        app.state.settings = settings
        app.state.runner = runner
        try:
            info = await runner.open()
            log.info("worker ready: engine %s, %d slots", info.name, concurrency)
            yield
        finally:
            await runner.close()
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(title="Vocalis worker", summary="Job protocol v1", lifespan=lifespan)
    # Path and query validation errors are 422, as for a bad job request (InvalidJob).
    install_error_handlers(app, validation_status=422)
    app.include_router(router)
    return app
