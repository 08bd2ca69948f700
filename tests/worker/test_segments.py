"""Streaming in the job protocol: finished segments served while the job runs, the result equal
to the segments joined, the status fields a client estimates time from, and DELETE."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.worker.harness import (
    DESIGN,
    HELD,
    LONG,
    TOKEN,
    read_wav,
    submit,
    tone_segments,
    wait_for,
    worker,
)
from vocalis.protocol import Health, JobStatus


async def segment(client: Any, job_id: str, n: int | str) -> Any:
    return await client.get(f"/v1/jobs/{job_id}/segments/{n}")


@pytest.mark.parametrize("execution", ["thread", "process"])
async def test_segments_come_while_the_job_runs(tmp_path: Path, execution: str) -> None:
    async with worker(tmp_path, execution=execution) as w:
        job_id = await submit(w.client, {**HELD, "options": {"tone_hold_after": 2}})
        status = await wait_for(w.client, job_id, {"running"})
        while status.segments_ready != 2:  # the engine holds after its second chunk
            status = await wait_for(w.client, job_id, {"running"})
        assert status.status == "running" and not status.result_ready

        expected = tone_segments(LONG)
        for n in (0, 1):
            reply = await segment(w.client, job_id, n)
            assert reply.status_code == 200 and reply.headers["content-type"] == "audio/wav"
            audio, rate = read_wav(reply.content)
            assert rate == 16_000
            assert np.abs(audio - expected[n]).max() < 1e-4
        assert status.audio_seconds_ready == pytest.approx(
            sum(len(s) for s in expected[:2]) / 16_000, abs=1e-3
        )
        # The job's own rate: characters done over time running.
        assert status.text_chars_total == len(LONG)
        assert status.progress is not None and status.text_chars_done is not None
        assert status.text_chars_done == round(status.progress * len(LONG))
        assert 0 < status.text_chars_done < len(LONG)
        assert status.running_seconds is not None and status.running_seconds >= 0

        not_yet = await segment(w.client, job_id, 2)
        assert not_yet.status_code == 409 and "not ready" in not_yet.json()["detail"]

        await w.client.post(f"/v1/jobs/{job_id}/cancel")
        cancelled = await wait_for(w.client, job_id, {"cancelled"})
        assert cancelled.segments_ready == 2  # what was handed over stays readable
        assert (await segment(w.client, job_id, 1)).status_code == 200
        never = await segment(w.client, job_id, 2)
        assert never.status_code == 409 and "cancelled" in never.json()["detail"]


async def test_the_result_is_the_segments_joined(tmp_path: Path) -> None:
    text = " ".join(f"Sentence {i} is one segment of the result." for i in range(7))
    async with worker(tmp_path) as w:
        job_id = await submit(w.client, {**DESIGN, "text": text})
        status = await wait_for(w.client, job_id, {"completed", "failed"})
        assert status.status == "completed", status.error
        assert status.segments_ready == 7 and status.progress == 1.0
        assert status.text_chars_done == status.text_chars_total == len(text)

        result = (await w.client.get(f"/v1/jobs/{job_id}/result")).content
        whole, rate = read_wav(result)
        pieces = [read_wav((await segment(w.client, job_id, n)).content)[0] for n in range(7)]
        np.testing.assert_array_equal(np.concatenate(pieces), whole)  # sample for sample
        assert status.audio_seconds_ready == pytest.approx(len(whole) / rate, abs=1e-3)
        assert status.duration_seconds == pytest.approx(len(whole) / rate, abs=1e-3)

        beyond = await segment(w.client, job_id, 7)
        assert (
            beyond.status_code == 404
            and beyond.json()["detail"] == "No such segment; the job has 7."
        )
        for malformed in ("-1", "x", "99999999999"):
            assert (await segment(w.client, job_id, malformed)).status_code == 404

        health = Health.model_validate((await w.client.get("/v1/health")).json())
        assert health.chars_per_second is not None and health.chars_per_second > 0


async def test_delete_drops_the_job_and_its_files_idempotently(tmp_path: Path) -> None:
    async with worker(tmp_path) as w:
        done = await submit(w.client, DESIGN)
        await wait_for(w.client, done, {"completed"})
        running = await submit(w.client, HELD)
        await wait_for(w.client, running, {"running"})
        assert (w.runner.jobs_dir / done / "segments" / "0.wav").is_file()

        for job_id in (done, running):
            for _ in range(2):  # idempotent
                reply = await w.client.delete(f"/v1/jobs/{job_id}")
                assert reply.status_code == 204 and reply.content == b""
            for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/result"):
                assert (await w.client.get(path)).status_code == 410
            assert (await segment(w.client, job_id, 0)).status_code == 410
        assert not (w.runner.jobs_dir / done).exists()
        # The held job was cancelled by the delete; its files go once its run has stopped.
        for task in list(w.runner._tasks):
            await task
        assert list(w.runner.jobs_dir.iterdir()) == []
        assert w.runner.counts() == (0, 0)

        unknown = await w.client.delete("/v1/jobs/00000000-0000-0000-0000-000000000000")
        assert unknown.status_code == 404


async def test_a_worker_status_without_segments_still_parses() -> None:
    older = {"job_id": "j", "status": "running", "result_ready": False, "elapsed_seconds": 1.0}
    status = JobStatus.model_validate(older)
    assert status.segments_ready is None and status.text_chars_done is None


async def test_the_api_client_fetches_segments_and_forgets_jobs(tmp_path: Path) -> None:
    from vocalis.api.worker_client import JobUnknown, ResultNotReady, WorkerClient
    from vocalis.api.worker_transport import HttpxTransport

    async with worker(tmp_path) as w:
        client = WorkerClient("http://worker", TOKEN, HttpxTransport(w.client))
        job_id = await client.submit(json.dumps(HELD).encode())
        status = await client.status(job_id)
        while status.segments_ready != 1:
            await asyncio.sleep(0.01)  # an in-process app never yields to the job's own task
            status = await client.status(job_id)
        dest = tmp_path / "segment.wav"
        await client.segment(job_id, 0, dest)
        audio, _ = read_wav(dest.read_bytes())
        assert np.abs(audio - tone_segments(LONG)[0]).max() < 1e-4
        with pytest.raises(ResultNotReady):
            await client.segment(job_id, 1, tmp_path / "next.wav")

        await client.forget(job_id)
        await client.forget(job_id)  # idempotent
        with pytest.raises(JobUnknown):
            await client.status(job_id)
        await client.forget("00000000-0000-0000-0000-000000000000")  # never known: fine too
