"""Request dependencies as Annotated aliases, and `get_owned`, the one 404 for foreign ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.accounts import ensure_profile
from vocalis.api.authn import Authenticator, AuthUser
from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import NotAllowed, NotFound, Unauthorized
from vocalis.api.limits import client_address, hit, trusted_networks
from vocalis.api.quota import check_quota
from vocalis.api.storage import Storage
from vocalis.api.tasks import Tasks
from vocalis.api.voices import Enrolment
from vocalis.api.worker_client import WorkerClient

M = TypeVar("M")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.sessions() as session:
        yield session


async def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def current_user(request: Request) -> AuthUser:
    user = await (await get_authenticator(request)).user(request)
    if user is None:
        raise Unauthorized("Not authenticated.")
    return user


async def session_user(user: CurrentUser) -> AuthUser:
    """A user signed in with a session, not an API key: a leaked key must not mint more keys."""
    if user.api_key:
        raise NotAllowed("API keys cannot manage API keys: sign in to the studio to do that.")
    return user


async def optional_user(request: Request) -> AuthUser | None:
    try:
        return await (await get_authenticator(request)).user(request)
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
SessionUser = Annotated[AuthUser, Depends(session_user)]
AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]
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
