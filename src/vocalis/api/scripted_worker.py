"""A scripted job-protocol peer, shipped beside the worker client (as httpx ships MockTransport
beside its transports): the real worker cannot be told to fail a status check, forget a job, or
be slow to hand over a result on cue. It speaks protocol v1 shapes (validated with the shared
wire models), counts what the API asked of it, and is used by the tests and benchmarks.

    worker = ScriptedWorker()
    app = create_app(settings, worker_transport=worker.transport())
    ...
    worker.complete_all()
"""

from __future__ import annotations

import asyncio
import io
import math
import struct
import wave
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from vocalis.api.worker_transport import HttpxTransport
from vocalis.protocol import JobRequest, JobState, JobStatus


def tone_wav(seconds: float = 1.0, rate: int = 24000) -> bytes:
    samples = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / rate)))
        for i in range(samples)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def join_wavs(parts: list[bytes]) -> bytes:
    """16-bit mono WAVs of one rate, joined into one."""
    frames, rate = b"", 24000
    for part in parts:
        with wave.open(io.BytesIO(part)) as w:
            rate = w.getframerate()
            frames += w.readframes(w.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


@dataclass
class Job:
    request: dict[str, Any]
    status: JobState = "running"
    progress: float | None = 0.0
    error: str | None = None
    segments_ready: int = 0


@dataclass
class ScriptedWorker:
    jobs: dict[str, Job] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    submit_fails: int = 0  # the next N submissions answer 503
    status_fails: int = 0  # the next N status checks answer 500
    result_fails: int = 0  # the next N result downloads answer 500
    # Gates for races: while `results_held`, a result download announces itself on
    # `result_requested` and waits until `release_results()`.
    results_held: bool = False
    result_requested: asyncio.Event = field(default_factory=asyncio.Event)
    _results_released: asyncio.Event = field(default_factory=asyncio.Event)
    forget_jobs: bool = False  # status answers 404 for every job (the worker restarted)
    raw_status: bytes | None = None  # status checks answer 200 with these bytes, whatever they are
    # /v1/health: exactly what SPEC §5 names (engine, languages, queue depth, capacity).
    health: dict[str, Any] = field(
        default_factory=lambda: {
            "engine": "scripted",
            "languages": ["Auto", "English"],
            "queue_depth": 0,
            "capacity": 8,
        }
    )
    result: bytes = field(default_factory=tone_wav)
    segments: list[bytes] | None = None  # None: a worker without segments (older protocol)
    rate: dict[str, Any] = field(default_factory=dict)  # extra status fields (the job's rate)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0

    def use_segments(self, segments: list[bytes]) -> None:
        """Act as a worker with segments: these WAVs, released by `ready(n)`; the result is
        them joined (as a real worker's is)."""
        self.segments = segments
        self.result = join_wavs(segments)

    def ready(self, count: int) -> None:
        """The first `count` segments of every job are finished."""
        for job in self.jobs.values():
            job.segments_ready = count
            job.progress = count / len(self.segments or [None])

    def hold_results(self) -> None:
        self.results_held = True
        self.result_requested.clear()
        self._results_released.clear()

    def release_results(self) -> None:
        self.results_held = False
        self._results_released.set()

    def complete_all(self) -> None:
        for job in self.jobs.values():
            job.status, job.progress = "completed", 1.0

    def fail_all(self, error: str) -> None:
        for job in self.jobs.values():
            job.status, job.error = "failed", error

    def transport(self) -> HttpxTransport:
        """A worker-client transport that reaches this peer in-process."""
        import httpx

        return HttpxTransport(httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app())))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/jobs")
        async def submit(request: Request) -> Response:
            self.calls["submit"] += 1
            body = await request.json()
            JobRequest.model_validate(body)
            if self.submit_fails:
                self.submit_fails -= 1
                return JSONResponse({"detail": "worker overloaded"}, status_code=503)
            self.next_id += 1
            job_id = f"job-{self.next_id}"
            self.jobs[job_id] = Job(body)
            self.submitted.append(body)
            return JSONResponse({"job_id": job_id, "status": "queued"}, status_code=202)

        @app.get("/v1/jobs/{job_id}")
        async def status(job_id: str) -> Response:
            self.calls["status"] += 1
            if self.status_fails:
                self.status_fails -= 1
                return JSONResponse({"detail": "boom"}, status_code=500)
            if self.raw_status is not None:
                return Response(self.raw_status, media_type="application/json")
            job = self.jobs.get(job_id)
            if job is None or self.forget_jobs:
                return JSONResponse({"detail": "unknown job"}, status_code=404)
            with_segments = self.segments is not None
            body = JobStatus(
                job_id=job_id,
                status=job.status,
                result_ready=job.status == "completed",
                elapsed_seconds=1.5,
                progress=job.progress,
                error=job.error,
                segments_ready=(
                    (len(self.segments or []) if job.status == "completed" else job.segments_ready)
                    if with_segments
                    else None
                ),
                **self.rate,
            )
            return Response(body.model_dump_json(), media_type="application/json")

        @app.get("/v1/jobs/{job_id}/result")
        async def result(job_id: str) -> Response:
            self.calls["result"] += 1
            if self.results_held:
                self.result_requested.set()
                await self._results_released.wait()
            if self.result_fails:
                self.result_fails -= 1
                return JSONResponse({"detail": "boom"}, status_code=500)
            job = self.jobs.get(job_id)
            if job is None:
                return JSONResponse({"detail": "unknown job"}, status_code=404)
            if job.status != "completed":
                return JSONResponse({"detail": "not ready"}, status_code=409)
            return Response(self.result, media_type="audio/wav")

        @app.get("/v1/jobs/{job_id}/segments/{index}")
        async def segment(job_id: str, index: int) -> Response:
            self.calls["segment"] += 1
            job = self.jobs.get(job_id)
            if job is None or self.segments is None:
                return JSONResponse({"detail": "unknown job"}, status_code=404)
            ready = len(self.segments) if job.status == "completed" else job.segments_ready
            if index >= ready:
                return JSONResponse({"detail": "not ready yet"}, status_code=409)
            return Response(self.segments[index], media_type="audio/wav")

        @app.delete("/v1/jobs/{job_id}")
        async def forget(job_id: str) -> Response:
            self.calls["forget"] += 1
            self.jobs.pop(job_id, None)
            return Response(status_code=204)

        @app.post("/v1/jobs/{job_id}/cancel")
        async def cancel(job_id: str) -> Response:
            self.calls["cancel"] += 1
            job = self.jobs.get(job_id)
            if job is None:
                return JSONResponse({"detail": "unknown job"}, status_code=404)
            if job.status in ("queued", "running"):
                job.status = "cancelled"
            return JSONResponse({"job_id": job_id, "status": job.status})

        @app.get("/v1/health")
        async def health() -> Response:
            self.calls["health"] += 1
            return JSONResponse(self.health)

        return app
