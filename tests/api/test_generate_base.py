"""Choosing the local engine's base: a generation passes its `base` to the worker as a job
option, `auto` leaves the choice to the worker, and /api/languages shows what the worker has."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import SignedIn
from vocalis.api.scripted_worker import ScriptedWorker


async def start(client: httpx.AsyncClient, user: SignedIn, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/generate", headers=user.headers, json=body)


async def test_the_base_travels_to_the_worker_as_a_job_option(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    voice_id = await make_voice(user)
    body = {"voice_id": voice_id, "text": "Hello.", "language": "English"}
    for base in ("kokoro", "espeak", "auto", None):
        response = await start(client, user, {**body, "base": base})
        assert response.status_code == 200, response.text
        task = await client.get(f"/api/tasks/{response.json()['task_id']}", headers=user.headers)
        assert task.json()["metadata"]["base"] == (base or "auto")
        peer.complete_all()
    options = [job.get("options", {}) for job in peer.submitted]
    assert options == [{"base": "kokoro"}, {"base": "espeak"}, {}, {}]


async def test_an_unknown_base_is_a_400(
    client: httpx.AsyncClient, user: SignedIn, make_voice: Any, peer: ScriptedWorker
) -> None:
    voice_id = await make_voice(user)
    response = await start(client, user, {"voice_id": voice_id, "text": "Hi.", "base": "sam"})
    assert (response.status_code, response.json()["detail"]) == (400, "Unsupported base: sam")
    assert peer.submitted == []


async def test_languages_lists_the_workers_bases(
    client: httpx.AsyncClient, peer: ScriptedWorker
) -> None:
    peer.health["bases"] = {"espeak": ["English", "German"], "kokoro": ["English"]}
    body = (await client.get("/api/languages")).json()
    assert body["bases"] == {"espeak": ["English", "German"], "kokoro": ["English"]}
