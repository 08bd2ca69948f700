"""Request dependencies as Annotated aliases, and `get_owned`, the one 404 for foreign ids."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.accounts import ensure_profile
from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import NotFound, Unauthorized
from vocalis.api.limits import client_address, hit, trusted_networks
from vocalis.api.quota import check_quota
from vocalis.api.security import ACCESS_COOKIE, TokenError, decode_access_token
from vocalis.api.storage import Storage
from vocalis.api.tasks import Tasks
from vocalis.api.voices import Enrolment
from vocalis.api.worker_client import WorkerClient

M = TypeVar("M")

# Cookies authenticate only safe requests (media players, download links); anything that
# changes state needs the Authorization header, so a cross-site form cannot act as the user.
_COOKIE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class AuthUser:
    id: str
    email: str
    session_id: str | None


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.sessions() as session:
        yield session


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else ""
    if request.method in _COOKIE_METHODS:
        return request.cookies.get(ACCESS_COOKIE)
    return None


# A browser polling a task sends the same token every second or so, and verifying it (PyJWT:
# parse, HMAC, claim checks) was about 8% of a poll's CPU (bench/poll.py). So each app keeps the
# users of tokens that passed verification (app.state.verified_tokens, keyed by the whole token,
# signature included) and re-checks the expiry on every use: the answer is the one a full
# verification would give (its other time checks, nbf and iat, only ever turn valid).
VERIFIED_TOKENS_MAX = 10_000


def _user_from_token(request: Request, token: str) -> AuthUser:
    secret: str = request.app.state.jwt_secret
    verified: dict[str, tuple[AuthUser, float]] = request.app.state.verified_tokens
    known = verified.get(token)
    if known is not None and time.time() < known[1]:
        return known[0]
    try:
        claims = decode_access_token(token, secret)
    except TokenError as exc:
        raise Unauthorized(str(exc)) from None
    user = AuthUser(
        id=claims["sub"], email=claims.get("email", ""), session_id=claims.get("session_id")
    )
    if len(verified) >= VERIFIED_TOKENS_MAX:
        del verified[next(iter(verified))]  # the oldest entry
    verified[token] = (user, float(claims["exp"]))
    return user


async def current_user(request: Request) -> AuthUser:
    token = _token_from(request)
    if not token:
        raise Unauthorized("Not authenticated.")
    return _user_from_token(request, token)


async def optional_user(request: Request) -> AuthUser | None:
    token = _token_from(request)
    if not token:
        return None
    try:
        return _user_from_token(request, token)
    except Unauthorized:
        return None


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_worker(request: Request) -> WorkerClient:
    worker: WorkerClient = request.app.state.worker
    return worker


async def get_tasks(request: Request) -> Tasks:
    tasks: Tasks = request.app.state.tasks
    return tasks


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_clock(request: Request) -> Callable[[], datetime]:
    """The app's clock (tests drive it by hand: tests/conftest.py FakeClock)."""
    clock: Callable[[], datetime] = request.app.state.tasks.clock
    return clock


async def get_jwt_secret(request: Request) -> str:
    secret: str = request.app.state.jwt_secret
    return secret


# Every dependency is `async def`: FastAPI runs plain `def` ones in its thread pool, a hop that
# a poll (the hot path) would pay for reading app.state.
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
WorkerDep = Annotated[WorkerClient, Depends(get_worker)]

SessionDep = Annotated[AsyncSession, Depends(get_session)]
CurrentUser = Annotated[AuthUser, Depends(current_user)]
OptionalUser = Annotated[AuthUser | None, Depends(optional_user)]
TasksDep = Annotated[Tasks, Depends(get_tasks)]
DatabaseDep = Annotated[Database, Depends(get_db)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
JwtSecretDep = Annotated[str, Depends(get_jwt_secret)]


async def get_enrolment(
    session: SessionDep, db: DatabaseDep, storage: StorageDep, settings: SettingsDep
) -> Enrolment:
    return Enrolment(session, db, storage, settings)


EnrolmentDep = Annotated[Enrolment, Depends(get_enrolment)]


async def creating_user(
    user: CurrentUser, session: SessionDep, db: DatabaseDep, settings: SettingsDep, clock: ClockDep
) -> AuthUser:
    """The signed-in user, for routes that create work: counted against the per-user creation
    rate, refused once their storage quota is full, and with user and profile rows guaranteed
    (a deployment trusting a Supabase project's tokens meets users who never signed up here)."""
    await hit(
        db, f"create:{user.id}", settings.create_rate_per_minute, clock(), "new jobs and uploads"
    )
    await check_quota(db, user.id, settings)
    await ensure_profile(session, user.id, user.email)
    await session.rollback()  # end the read: a SQLite transaction holds the write lock
    return user


CreatingUser = Annotated[AuthUser, Depends(creating_user)]


async def limit_auth_rate(
    request: Request, db: DatabaseDep, settings: SettingsDep, clock: ClockDep
) -> None:
    """Sign-in, sign-up and refresh, per client address (X-Forwarded-For only from a trusted
    proxy)."""
    address = client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        trusted_networks(settings.trusted_proxies),
    )
    await hit(
        db,
        f"auth:{address}",
        settings.auth_rate_per_minute,
        clock(),
        "sign-in, sign-up and refresh attempts from your address",
    )


AuthRateLimit = Depends(limit_auth_rate)


def parse_id(raw: str) -> str:
    """Canonical UUID string, or 404: a malformed id names nothing."""
    try:
        return str(uuid.UUID(raw))
    except (ValueError, TypeError, AttributeError):
        raise NotFound() from None


async def get_owned(
    session: AsyncSession, model: type[M], raw_id: str, user: AuthUser, *, detail: str | None = None
) -> M:
    """The row with this id belonging to this user, or NotFound (never 403 for foreign ids)."""
    owned: Any = model  # every owned model has `id` and `user_id` columns
    row: M | None = await session.scalar(
        select(owned).where(owned.id == parse_id(raw_id), owned.user_id == user.id)
    )
    if row is None:
        raise NotFound(detail or f"{model.__name__} not found.")
    return row
