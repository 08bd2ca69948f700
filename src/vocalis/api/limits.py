"""Request limits every replica agrees on: fixed-window counters and sign-in lockouts, kept in
the database (the only state replicas share).

Why not a library: the well-kept ones (`limits`, and slowapi / flask-limiter on top of it) count
in memory, Redis, Memcached or MongoDB; none in SQL, and a per-process counter lets N replicas
allow N times the limit. Each check here is one autocommit statement.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import RateLimited
from vocalis.api.models import LoginFailures, RateWindow

WINDOW_SECONDS = 60


def _insert(db: Database, table: Any) -> Any:
    """INSERT … ON CONFLICT for the database at hand (both dialects spell it alike)."""
    return (sqlite.insert if db.is_sqlite else postgresql.insert)(table)


def _later(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"in {math.ceil(seconds)} seconds" if seconds < 90 else f"in {minutes} minutes"


async def hit(db: Database, key: str, limit: int, now: datetime, what: str) -> None:
    """Count one request against `key` in the current minute; RateLimited (429 with
    Retry-After) once there were more than `limit`. `what` names the limit for people."""
    window = int(now.timestamp()) // WINDOW_SECONDS
    statement = (
        _insert(db, RateWindow)
        .values(key=key, window=window, count=1)
        .on_conflict_do_update(
            index_elements=[RateWindow.key, RateWindow.window],
            set_={"count": RateWindow.count + 1},
        )
        .returning(RateWindow.count)
    )
    async with db.autocommit() as conn:
        count = await conn.scalar(statement)
    if count is not None and count > limit:
        wait = (window + 1) * WINDOW_SECONDS - now.timestamp()
        raise RateLimited(
            f"Too many {what}: at most {limit} a minute. Try again {_later(wait)}.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


async def forget_old_windows(db: Database, now: datetime) -> None:
    """Drop counters of minutes long gone (the sweeper)."""
    current = int(now.timestamp()) // WINDOW_SECONDS
    async with db.autocommit() as conn:
        await conn.execute(delete(RateWindow).where(RateWindow.window < current - 1))


# ---- sign-in lockout ------------------------------------------------------------------------


async def check_not_locked(db: Database, email: str, now: datetime) -> None:
    """RateLimited while the email is locked after too many failed sign-ins (no hashing)."""
    async with db.autocommit() as conn:
        locked_until = await conn.scalar(
            select(LoginFailures.locked_until).where(LoginFailures.email == email)
        )
    if locked_until is not None and locked_until > now:
        wait = (locked_until - now).total_seconds()
        raise RateLimited(
            f"Too many failed sign-ins for this account. Try again {_later(wait)}, "
            "or reset the password.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


async def record_failure(db: Database, email: str, now: datetime, settings: Settings) -> None:
    """Count a failed sign-in; the one that reaches the limit within the window locks the
    email for the cooldown."""
    started = LoginFailures.window_started_at
    fresh = started < literal(
        now - timedelta(seconds=settings.login_failure_window_seconds), started.type
    )
    statement = (
        _insert(db, LoginFailures)
        .values(email=email, failures=1, window_started_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[LoginFailures.email],
            set_={  # a failure after the window has passed starts a new window
                "failures": case((fresh, 1), else_=LoginFailures.failures + 1),
                "window_started_at": case((fresh, literal(now, started.type)), else_=started),
            },
        )
    )
    async with db.autocommit() as conn:
        await conn.execute(statement)
        await conn.execute(
            update(LoginFailures)
            .where(
                LoginFailures.email == email,
                LoginFailures.failures >= settings.login_max_failures,
                LoginFailures.locked_until.is_(None) | (LoginFailures.locked_until < now),
            )
            .values(
                locked_until=now + timedelta(seconds=settings.login_lockout_seconds), failures=0
            )
        )


async def forget_old_failures(db: Database, now: datetime, settings: Settings) -> None:
    """Drop failure counts whose window has passed and that lock nothing (the sweeper)."""
    floor = now - timedelta(seconds=settings.login_failure_window_seconds)
    async with db.autocommit() as conn:
        await conn.execute(
            delete(LoginFailures).where(
                LoginFailures.window_started_at < floor,
                LoginFailures.locked_until.is_(None) | (LoginFailures.locked_until < now),
            )
        )


async def clear_failures(db: Database, email: str) -> None:
    """A successful sign-in forgets the failures."""
    async with db.autocommit() as conn:
        await conn.execute(delete(LoginFailures).where(LoginFailures.email == email))


# ---- who is asking ---------------------------------------------------------------------------


@functools.cache
def trusted_networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """VOCALIS_TRUSTED_PROXIES: comma-separated addresses or CIDRs."""
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    ]


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    trusted: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy, in which case
    the right-most X-Forwarded-For entry that is not itself a trusted proxy."""

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    address = peer or "unknown"
    if forwarded_for and is_trusted(address):
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            address = hop
            if not is_trusted(hop):
                break
    return address
