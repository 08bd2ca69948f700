"""The task state machine through the HTTP API, against a scripted protocol peer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from tests.conftest import SignedIn
from vocalis.api.config import Settings
from vocalis.api.models import Generation, Task, TaskStatus, utcnow
from vocalis.api.scripted_worker import ScriptedWorker, tone_wav
from vocalis.api.tasks.reconciler import reconcile_once
from vocalis.api.tasks.transitions import ALLOWED, transition


async def generate(
    client: httpx.AsyncClient, user: SignedIn, voice_id: str, text: str = "Hi."
) -> dict[str, Any]:
    response = await client.post(
        "/api/generate",
        headers=user.headers,
        json={"voice_id": voice_id, "text": text, "language": "English"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def poll(client: httpx.AsyncClient, user: SignedIn, task_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/tasks/{task_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def stored_generations(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "storage" / "generations").rglob("*.wav"))


async def test_happy_path_generate_poll_audio_history(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    voice_id = await make_voice(user)
    started = await generate(client, user, voice_id, "Hello world.")
    assert started["status"] == "processing" and started["is_long_running"] is True
    assert started["estimated_duration_minutes"] == 0.1
    assert peer.submitted[0]["type"] == "clone" and peer.submitted[0]["ref_text"] == "Hello there."

    running = await poll(client, user, started["task_id"])
    assert running["status"] == "processing"
    assert running["modal_status"] == "running" and running["modal_poll_count"] == 1
    assert "result" not in running

    peer.complete_all()
    done = await poll(client, user, started["task_id"])
    assert done["status"] == "completed"
    assert done["result"] == {"audio_url": f"/api/generations/{started['generation_id']}/audio"}
    assert done["modal_poll_count"] == 2 and done["progress"] == 1.0

    again = await poll(client, user, started["task_id"])  # terminal: answered from the database
    assert again["modal_poll_count"] == 2 and peer.calls["status"] == 2

    redirect = await client.get(done["result"]["audio_url"], headers=user.headers)
    assert redirect.status_code == 302
    audio = await client.get(redirect.headers["location"])
    assert audio.status_code == 200 and audio.content == peer.result

    history = (await client.get("/api/generations", headers=user.headers)).json()
    [generation] = history["generations"]
    assert generation["status"] == "completed" and generation["voice_name"] == "Narrator"
    assert generation["duration_seconds"] == pytest.approx(1.0, abs=0.01)
    assert generation["generation_time_seconds"] == 1.5 and generation["completed_at"]


async def test_concurrent_polls_finalize_exactly_once(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    peer.hold_results()  # the first finalizer downloads until released
    polls = [asyncio.create_task(poll(client, user, started["task_id"])) for _ in range(40)]
    await peer.result_requested.wait()
    while sum(p.done() for p in polls) < 39:  # every other poll answers while it holds
        await asyncio.sleep(0.01)
    waiting = [p.result() for p in polls if p.done()]
    assert {(r["status"], r["modal_status"]) for r in waiting} == {("processing", "finalizing")}
    peer.release_results()
    results = await asyncio.gather(*polls)
    assert [r["status"] for r in results].count("completed") == 1
    assert peer.calls["result"] == 1 and len(stored_generations(settings)) == 1
    final = await poll(client, user, started["task_id"])  # terminal: answered, not counted
    assert final["status"] == "completed" and final["modal_poll_count"] == 40


async def test_cancel_before_finalization_stores_nothing(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    cancelled = await client.post(f"/api/tasks/{started['task_id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 200
    final = await poll(client, user, started["task_id"])
    assert final["status"] == "cancelled" and peer.calls["result"] == 0
    assert stored_generations(settings) == []


async def test_cancel_during_finalization_wins_and_the_audio_is_deleted(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    peer.hold_results()
    finalizer = asyncio.create_task(poll(client, user, started["task_id"]))
    await peer.result_requested.wait()  # the finalizer holds the lease and is downloading
    cancelled = await client.post(f"/api/tasks/{started['task_id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 200
    peer.release_results()
    assert (await finalizer)["status"] == "cancelled"  # its compare-and-set lost to the cancel
    assert (await poll(client, user, started["task_id"]))["status"] == "cancelled"
    generation = (await client.get("/api/generations", headers=user.headers)).json()
    assert generation["generations"][0]["status"] == "cancelled"
    assert stored_generations(settings) == [] and peer.calls["result"] == 1


async def test_cancel_after_completion_is_400_and_keeps_the_audio(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"
    cancelled = await client.post(f"/api/tasks/{started['task_id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 400
    assert cancelled.json()["detail"] == "Cannot cancel task with status: completed"
    generation = (await client.get("/api/generations", headers=user.headers)).json()
    assert generation["generations"][0]["status"] == "completed"
    assert len(stored_generations(settings)) == 1


async def test_worker_failure_fails_task_and_generation(
    client, user, make_voice, peer: ScriptedWorker
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.fail_all("Reference audio could not be decoded.")
    failed = await poll(client, user, started["task_id"])
    assert (
        failed["status"] == "failed" and failed["error"] == "Reference audio could not be decoded."
    )
    generation = (await client.get("/api/generations", headers=user.headers)).json()["generations"][
        0
    ]
    assert generation["status"] == "failed"
    assert generation["error_message"] == "Reference audio could not be decoded."


async def test_a_result_without_audio_fails_and_stores_nothing(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.result = tone_wav(0.0)  # a valid WAV header and no samples
    peer.complete_all()
    failed = await poll(client, user, started["task_id"])
    assert failed["status"] == "failed", failed
    assert failed["error"] == "The worker finished the job but returned no audio."
    listed = (await client.get("/api/generations", headers=user.headers)).json()["generations"]
    assert listed[0]["status"] == "failed" and listed[0]["audio_path"] is None
    assert stored_generations(settings) == []
    assert (await poll(client, user, started["task_id"]))["status"] == "failed"
    assert peer.calls["result"] == 1  # failed for good: not downloaded again


async def test_submit_failure_is_502_and_leaves_failed_rows(
    client, user, make_voice, peer: ScriptedWorker
) -> None:
    voice_id = await make_voice(user)
    peer.submit_fails = 1
    response = await client.post(
        "/api/generate",
        headers=user.headers,
        json={"voice_id": voice_id, "text": "Hi", "language": "Auto"},
    )
    assert response.status_code == 502 and "Could not start synthesis" in response.json()["detail"]
    feed = (await client.get("/api/tasks", headers=user.headers)).json()["tasks"]
    assert [t["status"] for t in feed] == ["failed"]
    generation = (await client.get("/api/generations", headers=user.headers)).json()["generations"][
        0
    ]
    assert generation["status"] == "failed"


async def test_transient_status_error_changes_nothing(
    client, user, make_voice, peer: ScriptedWorker
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.status_fails = 1
    blip = await poll(client, user, started["task_id"])
    assert blip["status"] == "processing" and blip["modal_status"] == "status_error"
    recovered = await poll(client, user, started["task_id"])
    assert recovered["status"] == "processing" and recovered["modal_status"] == "running"


async def test_status_errors_fail_only_after_the_grace_period_however_often_polled(
    client, user, make_voice, peer: ScriptedWorker, settings, clock
) -> None:
    """A worker restart takes seconds; a browser polls every second. Fifty failed checks in
    59 s change nothing; failing takes the limit's count *and* the grace period."""
    started = await generate(client, user, await make_voice(user))
    peer.status_fails = 1000
    assert (await poll(client, user, started["task_id"]))["status"] == "processing"
    for _ in range(49):  # the first failed check, then 49 more over the next 59 s
        clock.advance((settings.status_error_grace_seconds - 1) / 49)
        assert (await poll(client, user, started["task_id"]))["status"] == "processing"
    clock.advance(1.5)
    failed = await poll(client, user, started["task_id"])
    assert failed["status"] == "failed" and "Lost contact" in failed["error"]
    assert "worker.test" not in failed["error"]  # the worker's address goes to the log only


async def test_a_worker_back_within_the_grace_period_completes_the_task(
    client, user, make_voice, peer: ScriptedWorker, settings, clock
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.status_fails = 20
    for _ in range(20):
        clock.advance(1)
        await poll(client, user, started["task_id"])
    peer.complete_all()
    clock.advance(1)
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"


async def test_polls_faster_than_the_rate_are_answered_without_a_worker_call(
    app, client, user, make_voice, peer: ScriptedWorker, clock
) -> None:
    app.state.settings.poll_rate_per_second = 4
    started = await generate(client, user, await make_voice(user))
    answers = [await poll(client, user, started["task_id"]) for _ in range(30)]
    assert peer.calls["status"] == 1  # 30 polls in the same instant: one status check
    assert {a["status"] for a in answers} == {"processing"}
    assert answers[-1]["modal_poll_count"] == 1
    clock.advance(0.2)
    await poll(client, user, started["task_id"])
    assert peer.calls["status"] == 1  # still within 1/4 s of the last check
    clock.advance(0.1)
    peer.complete_all()
    done = await poll(client, user, started["task_id"])
    assert done["status"] == "completed" and peer.calls["status"] == 2


async def test_lost_job_is_resubmitted_once_then_fails(
    client, user, make_voice, peer: ScriptedWorker
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.forget_jobs = True
    resubmitted = await poll(client, user, started["task_id"])
    assert resubmitted["status"] == "processing" and peer.calls["submit"] == 2
    peer.forget_jobs = False
    assert (await poll(client, user, started["task_id"]))["modal_status"] == "running"

    peer.forget_jobs = True
    failed = await poll(client, user, started["task_id"])
    assert failed["status"] == "failed" and "lost this job" in failed["error"]
    assert peer.calls["submit"] == 2


async def test_deadline_fails_task_and_cancels_job(
    client, user, make_voice, peer: ScriptedWorker, app
) -> None:
    started = await generate(client, user, await make_voice(user))
    async with app.state.db.engine.begin() as conn:  # move the deadline into the past
        await conn.execute(
            update(Task.__table__)
            .where(Task.__table__.c.id == started["task_id"])
            .values(deadline_at=Task.__table__.c.created_at)
        )
    failed = await poll(client, user, started["task_id"])
    assert failed["status"] == "failed" and failed["error"].startswith("Timed out")
    await app.state.tasks.drain()
    assert peer.calls["cancel"] == 1 and peer.calls["status"] == 0


async def test_reconciler_completes_a_task_nobody_polls(
    client, user, make_voice, peer: ScriptedWorker, app, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    table = Task.__table__
    async with app.state.db.engine.begin() as conn:  # as if created a while ago
        await conn.execute(
            update(table)
            .where(table.c.id == started["task_id"])
            .values(created_at=utcnow() - timedelta(minutes=1), last_checked_at=None)
        )
    assert await reconcile_once(app.state.tasks, interval=5.0) == 1
    assert await reconcile_once(app.state.tasks, interval=5.0) == 0  # checked just now: skipped
    async with app.state.db.sessions() as session:
        task = await session.get(Task, started["task_id"])
        generation = await session.get(Generation, started["generation_id"])
    assert task is not None and task.status == "completed"
    assert generation is not None and generation.audio_object_key
    assert len(stored_generations(settings)) == 1


async def test_active_task_cap_is_409(client, user, make_voice, settings) -> None:
    voice_id = await make_voice(user)
    for _ in range(settings.max_active_tasks):
        await generate(client, user, voice_id)
    response = await client.post(
        "/api/generate", headers=user.headers, json={"voice_id": voice_id, "text": "One more"}
    )
    assert response.status_code == 409 and "limit is 4" in response.json()["detail"]


async def test_cancel_then_terminal_cancel_is_400(
    client, user, make_voice, peer: ScriptedWorker
) -> None:
    started = await generate(client, user, await make_voice(user))
    response = await client.post(f"/api/tasks/{started['task_id']}/cancel", headers=user.headers)
    assert response.json() == {"cancelled": True, "task_id": started["task_id"]}
    assert peer.jobs["job-1"].status == "cancelled"
    again = await client.post(f"/api/tasks/{started['task_id']}/cancel", headers=user.headers)
    assert (
        again.status_code == 400
        and again.json()["detail"] == "Cannot cancel task with status: cancelled"
    )


async def test_design_preview_is_submitted_once_however_often_polled(
    client, user, peer: ScriptedWorker, app
) -> None:
    response = await client.post(
        "/api/voices/design/preview",
        headers=user.headers,
        json={"text": "Good morning.", "language": "English", "instruct": "a calm deep male voice"},
    )
    assert response.status_code == 200 and response.json()["status"] == "pending"
    task_id = response.json()["task_id"]
    await asyncio.gather(*(poll(client, user, task_id) for _ in range(10)))
    await app.state.tasks.drain()
    await asyncio.gather(*(poll(client, user, task_id) for _ in range(10)))
    assert peer.calls["submit"] == 1 and peer.submitted[0]["type"] == "design"
    peer.complete_all()
    done = await poll(client, user, task_id)
    assert (
        done["status"] == "completed"
        and done["result"]["audio_url"] == f"/api/tasks/{task_id}/audio"
    )
    audio = await client.get(done["result"]["audio_url"], headers=user.headers)
    assert audio.status_code == 302
    preview = (await client.get(audio.headers["location"])).content

    saved = await client.post(
        "/api/voices/design",
        headers=user.headers,
        data={
            "name": "Deep",
            "text": "Good morning.",
            "language": "English",
            "instruct": "a calm deep male voice",
        },
        files={"audio": ("preview.wav", preview, "audio/wav")},
    )
    assert saved.status_code == 200, saved.text
    assert (
        saved.json()["source"] == "designed"
        and saved.json()["description"] == "a calm deep male voice"
    )
    [voice] = (await client.get("/api/voices?source=designed", headers=user.headers)).json()[
        "voices"
    ]
    assert voice["reference_transcript"] == "Good morning." and voice["name"] == "Deep"


async def test_task_feed_filters_and_cursor(client, user, make_voice, peer: ScriptedWorker) -> None:
    voice_id = await make_voice(user)
    ids = [(await generate(client, user, voice_id))["task_id"] for _ in range(3)]
    await client.post(f"/api/tasks/{ids[0]}/cancel", headers=user.headers)
    active = (await client.get("/api/tasks?status=active", headers=user.headers)).json()
    assert [t["id"] for t in active["tasks"]] == ids[:0:-1]
    first = (await client.get("/api/tasks?limit=2", headers=user.headers)).json()
    assert [t["id"] for t in first["tasks"]] == [ids[2], ids[1]] and first["next_before"]
    rest = (
        await client.get(
            "/api/tasks", params={"limit": 2, "before": first["next_before"]}, headers=user.headers
        )
    ).json()
    assert [t["id"] for t in rest["tasks"]] == [ids[0]] and rest["next_before"] is None
    bad = await client.get("/api/tasks?before=garbage", headers=user.headers)
    assert bad.status_code == 400


async def test_delete_task_and_generation(
    client, user, make_voice, peer: ScriptedWorker, settings
) -> None:
    started = await generate(client, user, await make_voice(user))
    peer.complete_all()
    await poll(client, user, started["task_id"])
    assert len(stored_generations(settings)) == 1
    gen = await client.delete(f"/api/generations/{started['generation_id']}", headers=user.headers)
    assert gen.json() == {"ok": True} and stored_generations(settings) == []
    task = await client.delete(f"/api/tasks/{started['task_id']}", headers=user.headers)
    assert task.json() == {"ok": True}
    assert (
        await client.get(f"/api/tasks/{started['task_id']}", headers=user.headers)
    ).status_code == 404


async def test_regenerate_prefills_generate(client, user, make_voice, peer: ScriptedWorker) -> None:
    voice_id = await make_voice(user)
    started = await generate(client, user, voice_id, "Say it again & again?")
    response = await client.post(
        f"/api/generations/{started['generation_id']}/regenerate", headers=user.headers
    )
    body = response.json()
    assert body["voice_id"] == voice_id and body["text"] == "Say it again & again?"
    assert (
        body["redirect_url"]
        == f"/generate?voice={voice_id}&text=Say+it+again+%26+again%3F&language=English"
    )


async def test_transition_table_covers_every_pair(app, user) -> None:
    """Every (from, to) pair: the compare-and-set wins exactly for the allowed sources."""
    table = Task.__table__
    outcomes = {}
    async with app.state.db.engine.begin() as conn:
        for source in TaskStatus:
            for to in TaskStatus:
                task_id = str(uuid.uuid4())
                now = utcnow()
                await conn.execute(
                    insert(table).values(
                        id=task_id,
                        user_id=user.id,
                        type="generate",
                        status=source.value,
                        job_request={},
                        metadata={},
                        attempts=0,
                        status_errors=0,
                        poll_count=0,
                        deadline_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                # nothing enters PENDING: tasks are born pending
                won = await transition(conn, task_id, to) if to in ALLOWED else False
                status = await conn.scalar(select(table.c.status).where(table.c.id == task_id))
                outcomes[(source, to)] = (won, status)
    for (source, to), (won, status) in outcomes.items():
        expected = to in ALLOWED and source in ALLOWED[to]
        assert won is expected, (source, to)
        assert status == (to.value if expected else source.value), (source, to)


async def test_api_restart_mid_generation_loses_nothing(
    settings, user, make_voice, client, peer: ScriptedWorker, worker_transport, app
) -> None:
    from vocalis.api.app import create_app

    started = await generate(client, user, await make_voice(user))
    # A second API process (a restart, or another replica) with nothing in memory finishes it.
    fresh = create_app(settings, worker_transport=worker_transport)
    async with fresh.router.lifespan_context(fresh):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=fresh), base_url="http://t"
        ) as other:
            assert (await poll(other, user, started["task_id"]))["status"] == "processing"
            peer.complete_all()
            done = await poll(other, user, started["task_id"])
    assert done["status"] == "completed" and len(stored_generations(settings)) == 1
    assert (await poll(client, user, started["task_id"]))["status"] == "completed"
