"""Limits under abuse: sign-in lockout per email, auth rate per address, creation rate per user,
and no database transaction held across password hashing."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.api.test_auth import PASSWORD, login
from tests.conftest import FakeClock, SignedIn
from vocalis.api import accounts
from vocalis.api.app import create_app
from vocalis.api.config import Settings
from vocalis.api.limits import client_address, trusted_networks


async def test_ten_failures_lock_the_email_and_the_right_password_waits(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        assert (await login(client, user.email, "wrong password")).status_code == 400
    locked = await login(client, user.email, user.password)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 60
    assert "Too many failed sign-ins" in locked.json()["detail"]
    # GoTrue has no per-account lockout; its sign-in limit answers this code, so clients
    # treat the lockout as the rate limit it is.
    assert locked.json()["error_code"] == "over_request_rate_limit"
    # Another account is not affected.
    other = await client.post(
        "/auth/v1/signup", json={"email": "b@example.com", "password": PASSWORD}
    )
    assert (await login(client, "b@example.com", PASSWORD)).status_code == 200, other.text


async def test_an_unknown_email_locks_the_same_way(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Same answers for an account that does not exist: the limit reveals nothing."""
    for _ in range(settings.login_max_failures):
        assert (await login(client, "nobody@example.com", "wrong password")).status_code == 400
    assert (await login(client, "nobody@example.com", "wrong password")).status_code == 429


async def test_a_successful_sign_in_forgets_the_failures(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures - 1):
        await login(client, user.email, "wrong password")
    assert (await login(client, user.email, user.password)).status_code == 200
    for _ in range(settings.login_max_failures - 1):
        await login(client, user.email, "wrong password")
    assert (await login(client, user.email, user.password)).status_code == 200


async def test_replicas_share_the_lockout(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        await login(client, user.email, "wrong password")
    replica = create_app(settings)
    async with replica.router.lifespan_context(replica):
        transport = httpx.ASGITransport(app=replica)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as other:
            assert (await login(other, user.email, user.password)).status_code == 429


async def test_a_huge_password_is_refused_without_hashing(
    client: httpx.AsyncClient, user: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[int] = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: hashed.append(1) or real(h, p))
    response = await login(client, user.email, "x" * 5_000_000)
    assert response.status_code in (400, 413) and hashed == []
    signup = await client.post(
        "/auth/v1/signup", json={"email": "c@example.com", "password": "y" * 2000}
    )
    assert signup.status_code == 400 and "at most 1024" in signup.json()["detail"]
    assert signup.json()["error_code"] == "validation_failed"


async def test_auth_requests_per_address_are_limited(
    app: FastAPI, client: httpx.AsyncClient, user: SignedIn, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(second=0, microsecond=0) + timedelta(minutes=1)  # a new minute
    app.state.settings.auth_rate_per_minute = 3
    answers = [(await login(client, user.email, user.password)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = await login(client, user.email, user.password)
    assert "from your address" in refused.json()["detail"]
    assert refused.json()["error_code"] == "over_request_rate_limit"
    assert int(refused.headers["Retry-After"]) == 60
    clock.advance(60)  # the next minute is a new window
    assert (await login(client, user.email, user.password)).status_code == 200


async def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    trusted = trusted_networks("10.0.0.0/8, 192.168.1.7")
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"  # spoofed
    assert client_address("10.1.2.3", "1.2.3.4", trusted) == "1.2.3.4"
    assert client_address("10.1.2.3", "1.2.3.4, 192.168.1.7", trusted) == "1.2.3.4"
    assert client_address("10.1.2.3", "6.6.6.6, 1.2.3.4", trusted) == "1.2.3.4"  # right-most
    assert client_address(None, None, []) == "unknown"


async def test_creating_work_is_limited_per_user(
    app: FastAPI,
    client: httpx.AsyncClient,
    user: SignedIn,
    other_user: SignedIn,
    make_voice: Any,
    clock: FakeClock,
) -> None:
    voice = await make_voice(user)
    clock.now = clock.now.replace(second=0, microsecond=0) + timedelta(minutes=1)  # a new minute
    app.state.settings.create_rate_per_minute = 2
    body = {"voice_id": voice, "text": "Hi.", "language": "English"}
    answers = [
        (await client.post("/api/generate", headers=user.headers, json=body)).status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    upload = await client.post(
        "/api/clone/upload-url",
        headers=user.headers,
        json={"name": "N", "language": "English", "transcript": "Hi."},
    )
    assert upload.status_code == 429 and upload.headers["Retry-After"]
    assert (await client.get("/api/voices", headers=user.headers)).status_code == 200  # reads: free
    other = await client.post(
        "/api/clone/upload-url",
        headers=other_user.headers,
        json={"name": "N", "language": "English", "transcript": "Hi."},
    )
    assert other.status_code == 200


async def _writable_while(app: FastAPI, hashing: threading.Event, proceed: threading.Event) -> bool:
    """While a request sits inside Argon2, can another connection write? (SQLite: a held
    transaction is the write lock; PostgreSQL: no session may sit idle in a transaction.)"""
    await asyncio.to_thread(hashing.wait)
    db = app.state.db
    try:
        if db.is_sqlite:
            async with db.autocommit() as conn:
                await conn.exec_driver_sql("PRAGMA busy_timeout=0")
                await conn.execute(text("DELETE FROM rate_windows WHERE window < 0"))
            return True
        async with db.autocommit() as conn:
            idle = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction'"
                )
            )
        return idle == 0
    finally:
        proceed.set()


@pytest.mark.parametrize("route", ["signin", "signup"])
async def test_no_transaction_is_held_across_password_hashing(
    app: FastAPI,
    client: httpx.AsyncClient,
    user: SignedIn,
    monkeypatch: pytest.MonkeyPatch,
    route: str,
) -> None:
    hashing, proceed = threading.Event(), threading.Event()

    def gated(real: Any) -> Any:
        def slow(*args: Any) -> Any:
            hashing.set()
            proceed.wait(timeout=30)
            return real(*args)

        return slow

    monkeypatch.setattr(accounts, "verify_password", gated(accounts.verify_password))
    monkeypatch.setattr(accounts, "hash_password", gated(accounts.hash_password))
    if route == "signin":
        request = login(client, user.email, "wrong password")
    else:
        request = client.post(
            "/auth/v1/signup", json={"email": "d@example.com", "password": PASSWORD}
        )
    answer, writable = await asyncio.gather(request, _writable_while(app, hashing, proceed))
    assert writable, "a database transaction was open while the password was hashed"
    assert answer.status_code in (200, 400)
