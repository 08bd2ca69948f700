"""The real worker app in-process, driven through httpx, and the job-protocol moves tests make.

Protocol tests run the `tone` engine (instant, deterministic; vocalis.worker.engines.tone);
tests about a real engine say so with `engine="local"`.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf
from fastapi import FastAPI

from vocalis.protocol import JobStatus
from vocalis.worker.app import create_worker_app
from vocalis.worker.config import WorkerSettings
from vocalis.worker.jobs import JobRunner

TOKEN = "worker-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SHORT = "Hello there."
# Many sentences: many chunks, so a job has a long way to go when a test acts on it.
LONG = " ".join(f"Sentence number {i} keeps the synthesis busy for a while." for i in range(60))
DESIGN: dict[str, Any] = {
    "type": "design",
    "text": SHORT,
    "language": "English",
    "instruct": "a calm low voice",
}
# A tone job that is certainly running, one chunk done, until it is cancelled.
HELD: dict[str, Any] = {**DESIGN, "text": LONG, "options": {"tone_hold_after": 1}}


@dataclass
class Worker:
    app: FastAPI
    client: httpx.AsyncClient
    runner: JobRunner


@asynccontextmanager
async def worker(tmp_path: Path, **overrides: Any) -> AsyncIterator[Worker]:
    fields: dict[str, Any] = {
        "token": TOKEN,
        "engine": "tone",
        "concurrency": 1,
        "results_dir": tmp_path / "results",
        **overrides,
    }
    app = create_worker_app(WorkerSettings(**fields))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://worker", headers=AUTH, timeout=30
        ) as client:
            yield Worker(app, client, app.state.runner)


async def wait_for(
    client: httpx.AsyncClient, job_id: str, states: set[str], timeout: float = 60.0
) -> JobStatus:
    """Poll until the job is in one of `states` (the timeout only ends a hung test)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        status = JobStatus.model_validate(response.json())
        if status.status in states:
            return status
        assert time.monotonic() < deadline, f"job stuck in {status.status}"
        await asyncio.sleep(0.02)


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    return str(accepted["job_id"])


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    return audio, rate


def tone_segments(text: str, kind: str = "design") -> list[np.ndarray]:
    """The segments a tone job for `text` hands out: the engine's tones, leveled in order to
    the worker's default output loudness as the worker does."""
    from vocalis.worker.engines.text import split_sentences
    from vocalis.worker.engines.tone import CHUNK_CHARS, SAMPLE_RATE, chunk_tone
    from vocalis.worker.loudness import Leveler

    level = Leveler(SAMPLE_RATE)
    return [level(chunk_tone(chunk, kind)) for chunk in split_sentences(text, CHUNK_CHARS)]
