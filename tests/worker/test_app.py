"""Job protocol v1 over HTTP: the real worker app driven in-process through httpx, with the
`tone` engine where the protocol is the subject (the real engines have their own tests, and
tests/worker/test_server.py runs the `local` engine behind the real `vocalis worker`)."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from tests.worker.harness import (
    AUTH,
    DESIGN,
    HELD,
    SHORT,
    TOKEN,
    read_wav,
    submit,
    tone_segments,
    wait_for,
    worker,
)
from vocalis.protocol import LANGUAGES, Health


async def test_design_job_runs_to_a_streamed_wav(tmp_path: Path) -> None:
    async with worker(tmp_path) as w:
        health = Health.model_validate((await w.client.get("/v1/health")).json())
        assert health.engine == "tone"
        assert set(health.languages) <= set(LANGUAGES) and "English" in health.languages
        assert (health.capacity, health.concurrency) == (32, 1)

        job_id = await submit(w.client, DESIGN)
        early = await w.client.get(f"/v1/jobs/{job_id}/result")
        status = await wait_for(w.client, job_id, {"completed", "failed"})
        assert status.status == "completed", status.error
        assert status.result_ready and status.progress == 1.0 and status.error is None
        assert status.elapsed_seconds > 0

        result = await w.client.get(f"/v1/jobs/{job_id}/result")
        assert result.status_code == 200
        assert result.headers["content-type"] == "audio/wav"
        audio, rate = read_wav(result.content)
        assert rate == health.sample_rate
        assert status.duration_seconds == pytest.approx(len(audio) / rate, abs=1e-3)
        # The engine's own audio, leveled, through the WAV file and the stream, to 16 bits.
        [expected] = tone_segments(SHORT)
        assert len(audio) == len(expected)
        assert np.abs(audio - expected).max() < 1e-4

        # Finished and unchanged: status stays put, cancel is a no-op.
        cancel = await w.client.post(f"/v1/jobs/{job_id}/cancel")
        assert cancel.status_code == 200 and cancel.json()["status"] == "completed"
        again = await w.client.get(f"/v1/jobs/{job_id}/result")
        assert again.content == result.content
    # Asked before the job finished: not ready, unless the engine beat the request.
    assert early.status_code == 409 or (early.status_code == 200 and early.content)


async def test_clone_from_inline_and_url_references(tmp_path: Path) -> None:
    async with worker(tmp_path) as w:
        design_id = await submit(w.client, DESIGN)
        assert (await wait_for(w.client, design_id, {"completed", "failed"})).result_ready
        reference = (await w.client.get(f"/v1/jobs/{design_id}/result")).content

        server = web.Application()

        async def serve_reference(_request: web.Request) -> web.Response:
            return web.Response(body=reference)

        server.router.add_get("/ref.wav", serve_reference)
        runner = web.AppRunner(server)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            clone = {"type": "clone", "text": "Good morning.", "language": "English"}
            clone["ref_text"] = SHORT
            inline_id = await submit(
                w.client, {**clone, "ref_audio_base64": base64.b64encode(reference).decode()}
            )
            url_id = await submit(
                w.client, {**clone, "ref_audio_url": f"http://127.0.0.1:{port}/ref.wav"}
            )
            for job_id in (inline_id, url_id):
                status = await wait_for(w.client, job_id, {"completed", "failed"})
                assert status.status == "completed", status.error
                audio, _ = read_wav((await w.client.get(f"/v1/jobs/{job_id}/result")).content)
                assert len(audio) > 0 and np.abs(audio).max() > 0.05

            missing = await submit(
                w.client, {**clone, "ref_audio_url": f"http://127.0.0.1:{port}/nothing.wav"}
            )
            status = await wait_for(w.client, missing, {"completed", "failed"})
            assert status.status == "failed"
            assert status.error == "Could not download the reference audio (HTTP 404)."
        finally:
            await runner.cleanup()
        # References are removed once used; only the results stay.
        leftovers = sorted(p.name for p in w.runner.jobs_dir.rglob("*") if p.is_file())
        assert leftovers == ["0.wav"] * 3 + ["result.wav"] * 3  # each job's one segment


async def test_a_reference_that_does_not_decode_fails_the_job(tmp_path: Path) -> None:
    garbage = base64.b64encode(os.urandom(4096)).decode()
    async with worker(tmp_path) as w:
        job_id = await submit(
            w.client,
            {"type": "clone", "text": SHORT, "ref_audio_base64": garbage, "ref_text": "Hi."},
        )
        status = await wait_for(w.client, job_id, {"completed", "failed"})
        assert status.status == "failed" and not status.result_ready
        assert status.error and "reference audio" in status.error.lower()
        result = await w.client.get(f"/v1/jobs/{job_id}/result")
        assert result.status_code == 409 and "failed" in result.json()["detail"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
async def test_cancel_mid_job_stops_its_process(tmp_path: Path) -> None:
    async with worker(tmp_path, execution="process", cancel_grace_seconds=60) as w:
        job_id = await submit(w.client, HELD)
        status = await wait_for(w.client, job_id, {"running"})
        while (status.progress or 0.0) == 0.0:  # inside the chunk loop, not still starting
            status = await wait_for(w.client, job_id, {"running"})
        [pid] = w.runner.executor.busy_pids()  # type: ignore[attr-defined]

        cancel = await w.client.post(f"/v1/jobs/{job_id}/cancel")
        assert cancel.status_code == 200
        assert cancel.json()["status"] == "cancelled" and 0 < cancel.json()["progress"] < 1
        again = await w.client.post(f"/v1/jobs/{job_id}/cancel")
        assert again.status_code == 200 and again.json()["status"] == "cancelled"

        deadline = time.monotonic() + 10
        while w.runner.executor.busy_pids():  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the slot never gave up the cancelled job"
            await asyncio.sleep(0.05)
        # The slot stopped at a chunk boundary by itself (a kill is only the fallback) and
        # now sits idle.
        before = _cpu_ticks(pid)
        await asyncio.sleep(0.5)
        assert _cpu_ticks(pid) - before <= 2
        status = await wait_for(w.client, job_id, {"cancelled"})
        assert not status.result_ready
        assert (await w.client.get(f"/v1/jobs/{job_id}/result")).status_code == 409
        assert not (w.runner.jobs_dir / job_id / "result.wav").exists()

        # The slot is free again and serves the next job.
        next_id = await submit(w.client, DESIGN)
        assert (await wait_for(w.client, next_id, {"completed", "failed"})).result_ready


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


async def test_capacity_bound_answers_429_with_retry_after(tmp_path: Path) -> None:
    async with worker(tmp_path, capacity=2) as w:
        first = await submit(w.client, HELD)
        second = await submit(w.client, HELD)
        health = (await w.client.get("/v1/health")).json()
        assert health["queue_depth"] + health["running"] == 2
        refused = await w.client.post("/v1/jobs", json=DESIGN)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "capacity" in refused.json()["detail"]

        # A queued job can be cancelled before it ever runs, which frees capacity.
        queued = await w.client.post(f"/v1/jobs/{second}/cancel")
        assert queued.json()["status"] == "cancelled" and queued.json()["progress"] == 0.0
        third = await submit(w.client, DESIGN)
        await w.client.post(f"/v1/jobs/{first}/cancel")
        assert (await wait_for(w.client, third, {"completed", "failed"})).result_ready
        assert (await wait_for(w.client, second, {"cancelled"})).error is None


async def test_concurrent_jobs_all_complete(tmp_path: Path) -> None:
    texts = ["One.", "Two words.", "Three small words.", "Four little words here."]
    async with worker(tmp_path, concurrency=2) as w:
        ids = await asyncio.gather(*(submit(w.client, {**DESIGN, "text": t}) for t in texts))
        assert len(set(ids)) == len(texts)
        statuses = await asyncio.gather(
            *(wait_for(w.client, i, {"completed", "failed"}) for i in ids)
        )
        durations = []
        for status in statuses:
            assert status.status == "completed", status.error
            durations.append(status.duration_seconds or 0.0)
        # Each result is its own text's audio: longer text, longer speech.
        assert durations == sorted(durations) and durations[0] < durations[-1]


async def test_results_expire_after_retention(tmp_path: Path) -> None:
    async with worker(tmp_path, retention_seconds=60) as w:
        now = [1000.0]
        w.runner.clock = lambda: now[0]  # retention is driven by hand, not by waiting
        job_id = await submit(w.client, DESIGN)
        assert (await wait_for(w.client, job_id, {"completed", "failed"})).result_ready
        assert (w.runner.jobs_dir / job_id / "result.wav").is_file()
        now[0] += 59.9
        assert (await w.client.get(f"/v1/jobs/{job_id}/result")).status_code == 200
        now[0] += 0.1
        for method, path in [
            ("GET", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/jobs/{job_id}/result"),
            ("POST", f"/v1/jobs/{job_id}/cancel"),
        ]:
            response = await w.client.request(method, path)
            assert response.status_code == 410, (path, response.text)
            assert "expired" in response.json()["detail"]
        assert not (w.runner.jobs_dir / job_id).exists()


async def test_a_restart_forgets_every_job(tmp_path: Path) -> None:
    async with worker(tmp_path) as w:
        done = await submit(w.client, DESIGN)
        assert (await wait_for(w.client, done, {"completed", "failed"})).result_ready
        in_flight = await submit(w.client, HELD)
        await wait_for(w.client, in_flight, {"running"})
    async with worker(tmp_path) as w:
        for job_id in (done, in_flight):
            for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/result"):
                response = await w.client.get(path)
                assert response.status_code == 404 and response.json() == {"detail": "Unknown job."}
        assert list(w.runner.jobs_dir.iterdir()) == []  # the old run's files are gone too
        assert (await w.client.get("/v1/health")).json()["queue_depth"] == 0


INVALID: list[tuple[Any, str]] = [
    (b"{not json", "Invalid JSON body"),
    (b"[]", "should be an object"),
    ({"type": "speak", "text": "Hi.", "instruct": "x"}, "type"),
    ({"type": "design", "instruct": "x"}, "text must not be empty"),
    ({"type": "transcribe", "text": "Hi.", "ref_audio_url": "http://x/a.wav"}, "take no text"),
    ({"type": "transcribe"}, "transcribe jobs need exactly one of ref_audio_url"),
    ({"type": "design", "text": "   ", "instruct": "x"}, "text must not be empty"),
    ({"type": "design", "text": "x" * 10_001, "instruct": "x"}, "text: String should have"),
    ({**DESIGN, "language": "Klingon"}, "unsupported language"),
    ({"type": "design", "text": "Hi."}, "design jobs need instruct"),
    ({**DESIGN, "ref_audio_url": "http://x/a.wav"}, "design jobs take no reference"),
    ({"type": "clone", "text": "Hi.", "ref_text": "Hi."}, "exactly one of ref_audio_url"),
    (
        {
            "type": "clone",
            "text": "Hi.",
            "ref_text": "Hi.",
            "ref_audio_url": "http://x/a.wav",
            "ref_audio_base64": "AAAA",
        },
        "exactly one of ref_audio_url",
    ),
    (
        {"type": "clone", "text": "Hi.", "ref_audio_url": "http://x/a.wav"},
        "clone jobs need ref_text",
    ),
    (
        {"type": "clone", "text": "Hi.", "ref_text": "Hi.", "ref_audio_url": "file:///etc"},
        "http:// or https://",
    ),
    (
        {"type": "clone", "text": "Hi.", "ref_text": "Hi.", "ref_audio_base64": "no!"},
        "not valid base64",
    ),
    ({**DESIGN, "options": {"max_new_tokens": 0}}, "options.max_new_tokens"),
    ({**DESIGN, "options": {"seed": "x"}}, "options.seed"),
    ({**DESIGN, "options": {"nested": {"a": 1}}}, "option 'nested'"),
    ({**DESIGN, "voice": "x"}, "voice: Extra inputs"),
]


async def test_invalid_payloads_are_refused_with_a_reason(tmp_path: Path) -> None:
    async with worker(tmp_path) as w:
        for body, reason in INVALID:
            if isinstance(body, bytes):
                response = await w.client.post("/v1/jobs", content=body)
            else:
                response = await w.client.post("/v1/jobs", json=body)
            assert response.status_code == 422, (body, response.text)
            assert reason in response.json()["detail"], (body, response.text)
        assert w.runner.counts() == (0, 0) and list(w.runner.jobs_dir.iterdir()) == []


async def test_oversized_requests_are_413(tmp_path: Path) -> None:
    async with worker(tmp_path, max_ref_bytes=1000) as w:
        body = {
            "type": "clone",
            "text": "Hi.",
            "ref_text": "Hi.",
            "ref_audio_base64": base64.b64encode(b"\0" * 1001).decode(),
        }
        response = await w.client.post("/v1/jobs", json=body)
        assert response.status_code == 413
        assert response.json() == {"detail": "The reference audio exceeds 1000 bytes."}
        # Far past the cap, the body is refused before it is parsed.
        body["ref_audio_base64"] = "A" * 3_000_000
        response = await w.client.post("/v1/jobs", json=body)
        assert response.status_code == 413 and "by URL" in response.json()["detail"]
        assert list(w.runner.jobs_dir.iterdir()) == []


def protocol_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every job-protocol route, read from the app's own OpenAPI
    document, so a new route cannot escape the sweep."""
    routes: list[tuple[str, str]] = []
    for path, operations in app.openapi()["paths"].items():
        template = path.replace("{job_id}", "{id}").replace("{index}", "0")
        routes.extend((method.upper(), template) for method in operations)
    return sorted(routes)


async def test_every_route_needs_the_token_and_unknown_ids_are_404(tmp_path: Path) -> None:
    async with worker(tmp_path) as w:
        routes = protocol_routes(w.app)
        assert ("GET", "/v1/jobs/{id}/segments/0") in routes and (
            "DELETE",
            "/v1/jobs/{id}",
        ) in routes
        assert len(routes) == 7
        job_id = await submit(w.client, DESIGN)
        for method, template in routes:
            path = template.format(id=job_id)
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                w.client.headers.pop("Authorization", None)
                response = await w.client.request(method, path, headers=headers, json=DESIGN)
                assert response.status_code == 401, (method, path, headers)
                assert response.json() == {"detail": "Missing or invalid bearer token."}
                assert response.headers["www-authenticate"] == "Bearer"
            w.client.headers.update(AUTH)
            if "{id}" in template:
                for unknown in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
                    response = await w.client.request(method, template.format(id=unknown))
                    assert response.status_code == 404, (method, template)
                    assert response.json() == {"detail": "Unknown job."}
        assert len(w.runner._jobs) == 1  # the refused submissions created nothing
        await wait_for(w.client, job_id, {"completed", "failed"})
