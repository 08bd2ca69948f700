"""The job machinery below HTTP: reference intake, both executors (with the `tone` engine: the
subject is the slots, not the synthesis), and the job table's retention."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from aiohttp import web

from vocalis.protocol import JobRequest
from vocalis.worker.engines import load_engine
from vocalis.worker.errors import ExpiredJob, UnknownJob
from vocalis.worker.execution import Outcome, ThreadExecutor, Work
from vocalis.worker.jobs import JobRunner
from vocalis.worker.processes import ProcessExecutor
from vocalis.worker.reference import (
    ReferenceProblem,
    ReferenceTooLarge,
    decode_base64_reference,
    download_reference,
)

LONG = " ".join(f"Sentence number {i} keeps the synthesis busy for a while." for i in range(60))


def design(tmp_path: Path, text: str = "Hello there.", name: str = "out.wav") -> Work:
    return Work("design", text, "English", str(tmp_path / name), instruct="a bright voice")


def held(tmp_path: Path, name: str, how: str = "tone_hold_after") -> Work:
    """A job that stays running after its first chunk until it is cancelled (or, with
    `tone_stuck_after`, hangs there without ever looking at its cancel)."""
    work = design(tmp_path, LONG, name)
    return Work(**{**work.to_json(), "options": {how: 1}})


# -- reference intake -------------------------------------------------------------------------


def test_base64_reference_decodes_in_slices(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)  # spans several slices, with padding at the end
    dest = tmp_path / "ref"
    # MIME-style line breaks shift every slice boundary off a multiple of four.
    assert decode_base64_reference(base64.encodebytes(data).decode(), dest, len(data)) == len(data)
    assert dest.read_bytes() == data
    as_data_url = "data:audio/wav;base64," + base64.b64encode(data[:1000]).decode()
    assert decode_base64_reference(as_data_url, dest, 10_000) == 1000
    assert dest.read_bytes() == data[:1000]


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("@@@@", ReferenceProblem, "not valid base64"),
        ("QUJD=", ReferenceProblem, "truncated"),
        ("", ReferenceProblem, "empty"),
        (base64.b64encode(b"x" * 101).decode(), ReferenceTooLarge, "exceeds 100 bytes"),
    ],
)
def test_base64_reference_refusals(
    tmp_path: Path, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        decode_base64_reference(text, tmp_path / "ref", 100)


@pytest.fixture
async def files() -> AsyncIterator[str]:
    """A local HTTP server playing the API's signed-URL storage."""

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to trust
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"y" * 100)
        return response

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(1.5)  # past the client's 0.5 s timeout
        return web.Response(body=b"late")

    def fixed(body: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(body=body)

        return handler

    app = web.Application()
    app.router.add_get("/ok", fixed(b"z" * 500))
    app.router.add_get("/big", fixed(b"z" * 5000))
    app.router.add_get("/streamed", streamed)
    app.router.add_get("/empty", fixed(b""))
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_download_reference(files: str, tmp_path: Path) -> None:
    import aiohttp

    dest = tmp_path / "ref"
    async with aiohttp.ClientSession() as http:

        async def fetch(path: str, base: str = files) -> int:
            return await download_reference(http, base + path, dest, max_bytes=1000, timeout=0.5)

        assert await fetch("/ok") == 500 and dest.read_bytes() == b"z" * 500
        refusals = [
            ("/missing", ReferenceProblem, r"\(HTTP 404\)"),
            ("/big", ReferenceTooLarge, "exceeds 1000 bytes"),
            ("/streamed", ReferenceTooLarge, "exceeds 1000 bytes"),
            ("/empty", ReferenceProblem, "was empty"),
            ("/slow", ReferenceProblem, "timed out"),
        ]
        for path, error, message in refusals:
            with pytest.raises(error, match=message):
                await fetch(path)
        closed = f"http://127.0.0.1:{_closed_port()}"
        with pytest.raises(ReferenceProblem, match="Could not download") as caught:
            await fetch("/ok", closed)
        assert closed not in str(caught.value)  # signed URLs never leak into messages


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- executors ----------------------------------------------------------------------------------


def _audio_ok(path: Path, outcome: Outcome) -> None:
    assert outcome.status == "completed", outcome.error
    audio, rate = sf.read(path, dtype="float32")
    assert outcome.duration_seconds == pytest.approx(len(audio) / rate, abs=1e-3)
    assert np.abs(audio).max() > 0.05


async def test_process_slots_survive_crashes_and_kills(tmp_path: Path) -> None:
    executor = ProcessExecutor("tone", concurrency=1, cancel_grace=0.0)
    info = await executor.open()
    try:
        assert info.name == "tone" and info.sample_rate > 0
        run = await executor.start(design(tmp_path, name="a.wav"))
        _audio_ok(tmp_path / "a.wav", await run.wait())

        # A slot that dies mid-job fails that job only; a fresh process takes its place.
        run = await executor.start(held(tmp_path, "b.wav"))
        [pid] = executor.busy_pids()
        os.kill(pid, signal.SIGKILL)
        assert await run.wait() == Outcome("failed", error="The synthesis process crashed.")

        # A slot stuck in a chunk is killed once the grace (none here) is over.
        run = await executor.start(held(tmp_path, "c.wav", "tone_stuck_after"))
        [pid] = executor.busy_pids()
        while run.progress == 0.0:
            await asyncio.sleep(0.02)
        run.cancel()
        assert await run.wait() == Outcome("cancelled")
        assert not Path(f"/proc/{pid}").exists() or _is_zombie_or_gone(pid)
        assert not (tmp_path / "c.wav").exists()

        run = await executor.start(design(tmp_path, name="d.wav"))
        _audio_ok(tmp_path / "d.wav", await run.wait())
    finally:
        await executor.close()


def _is_zombie_or_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


async def test_thread_executor_runs_an_injected_engine(tmp_path: Path) -> None:
    executor = ThreadExecutor(load_engine("tone"), concurrency=1)
    assert (await executor.open()).name == "tone"
    try:
        run = await executor.start(design(tmp_path, name="a.wav"))
        _audio_ok(tmp_path / "a.wav", await run.wait())
        run = await executor.start(held(tmp_path, "b.wav"))
        while run.progress == 0.0:
            await asyncio.sleep(0.02)
        run.cancel()
        assert await run.wait() == Outcome("cancelled")
        assert 0 < run.progress < 1 and not (tmp_path / "b.wav").exists()
    finally:
        await executor.close()


# -- the job table ----------------------------------------------------------------------------


async def test_retention_uses_the_clock_and_leaves_a_tombstone(tmp_path: Path) -> None:
    now = [1000.0]
    runner = JobRunner(
        ThreadExecutor(load_engine("tone")),
        tmp_path / "jobs",
        capacity=4,
        concurrency=1,
        retention_seconds=60,
        max_ref_bytes=1000,
        fetch_timeout_seconds=1,
        clock=lambda: now[0],
    )
    await runner.open()
    try:
        job = await runner.submit(
            JobRequest(type="design", text="Hi.", instruct="a voice", language="English")
        )
        assert job.task is not None
        await job.task
        assert job.state == "completed" and job.result_path.is_file()
        now[0] += 59.9
        assert runner.result_path(job.id) == job.result_path
        now[0] += 0.1
        with pytest.raises(ExpiredJob):
            runner.get(job.id)
        assert not job.dir.exists()
        with pytest.raises(UnknownJob):
            runner.get("another")
    finally:
        await runner.close()
    assert not (tmp_path / "jobs").exists()
