"""API keys: shown once, stored as a hash, accepted as Bearer on /api and /v1 with the owner's
rights, and refused once revoked — at once here, within seconds on every replica."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import SignedIn
from vocalis.api.app import create_app
from vocalis.api.authn import API_KEY_CACHE_SECONDS
from vocalis.api.config import Settings
from vocalis.api.models import ApiKey


async def make_key(
    client: httpx.AsyncClient, user: SignedIn, name: str = "script"
) -> dict[str, Any]:
    response = await client.post("/api/api-keys", headers=user.headers, json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_key_is_shown_once_and_stored_only_as_a_hash(
    app: FastAPI, client: httpx.AsyncClient, user: SignedIn
) -> None:
    created = await make_key(client, user)
    key = created["key"]
    assert key.startswith("vk_") and len(key) >= 40 and created["prefix"] == key[:10]
    listed = (await client.get("/api/api-keys", headers=user.headers)).json()["api_keys"]
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    assert listed[0]["last_used_at"] is None
    async with app.state.db.sessions() as session:
        [row] = (await session.scalars(select(ApiKey))).all()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (row.key_hash, row.prefix, row.name)


async def test_a_key_acts_as_its_owner_and_only_its_owner(
    client: httpx.AsyncClient, user: SignedIn, other_user: SignedIn, make_voice: Any
) -> None:
    voice = await make_voice(user)
    key = (await make_key(client, user))["key"]
    voices = await client.get("/api/voices", headers=bearer(key))
    assert voices.status_code == 200 and [v["id"] for v in voices.json()["voices"]] == [voice]
    started = await client.post(
        "/api/generate", headers=bearer(key), json={"voice_id": voice, "text": "Hi."}
    )
    assert started.status_code == 200
    assert (
        await client.get(f"/api/tasks/{started.json()['task_id']}", headers=bearer(key))
    ).status_code == 200
    others = await client.get("/api/voices", headers=other_user.headers)
    assert others.json()["voices"] == []
    listed = (await client.get("/api/api-keys", headers=user.headers)).json()["api_keys"]
    assert listed[0]["last_used_at"] is not None


async def test_keys_cannot_manage_keys_and_others_keys_are_404(
    client: httpx.AsyncClient, user: SignedIn, other_user: SignedIn
) -> None:
    created = await make_key(client, user)
    assert (await client.get("/api/api-keys", headers=bearer(created["key"]))).status_code == 403
    foreign = await client.delete(f"/api/api-keys/{created['id']}", headers=other_user.headers)
    assert foreign.status_code == 404
    assert (await client.post("/api/api-keys", headers=user.headers, json={})).status_code == 400


async def test_a_revoked_key_is_refused_here_at_once_and_on_replicas_within_seconds(
    app: FastAPI, client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    created = await make_key(client, user)
    key = created["key"]
    replica = create_app(settings)
    async with replica.router.lifespan_context(replica):
        transport = httpx.ASGITransport(app=replica)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as other:
            now = [1000.0]
            replica.state.authenticator._monotonic = lambda: now[0]
            assert (await other.get("/api/voices", headers=bearer(key))).status_code == 200

            revoked = await client.delete(f"/api/api-keys/{created['id']}", headers=user.headers)
            assert revoked.json() == {"ok": True}
            assert (await client.get("/api/voices", headers=bearer(key))).status_code == 401

            now[0] += API_KEY_CACHE_SECONDS / 2  # the replica's cached answer is still fresh
            assert (await other.get("/api/voices", headers=bearer(key))).status_code == 200
            now[0] += API_KEY_CACHE_SECONDS  # past the cache: asks the database again
            refused = await other.get("/api/voices", headers=bearer(key))
            assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


async def test_unknown_keys_are_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/voices", headers=bearer("vk_" + "x" * 43))
    assert response.status_code == 401


async def test_the_cli_prints_a_key_for_an_operator(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    def key_create(email: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "VOCALIS_DATABASE_URL": settings.resolved_database_url}
        command = [sys.executable, "-m", "vocalis.cli", "key", "create", "--email", email]
        command += ["--name", "ops", "--data-dir", str(settings.data_dir)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    made = await asyncio.to_thread(key_create, user.email)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("vk_")
    assert (await client.get("/api/voices", headers=bearer(key))).status_code == 200
    unknown = await asyncio.to_thread(key_create, "nobody@example.com")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
