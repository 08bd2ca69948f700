"""Accounts: users, their passwords and profiles. Sign-in sessions: auth_sessions.py."""

from __future__ import annotations

import asyncio
import os
import re
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.auth_schemas import AuthUserOut
from vocalis.api.config import Settings
from vocalis.api.db import Database
from vocalis.api.errors import AppError, BadRequest, Conflict, Unauthorized
from vocalis.api.limits import check_not_locked, clear_failures, record_failure
from vocalis.api.models import Profile, User, new_id, utcnow
from vocalis.api.profile_schemas import ProfileUpdate
from vocalis.api.security import (
    hash_password,
    password_needs_rehash,
    verify_password,
)

T = TypeVar("T")

MIN_PASSWORD_LENGTH = 8
# Argon2 takes any length, but hashing megabytes per request is a cheap denial of service.
MAX_PASSWORD_LENGTH = 1024
# Stored for accounts provisioned from a trusted external token: no password verifies.
UNUSABLE_PASSWORD = "!"

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

# The failures a GoTrue client tells apart, with GoTrue's statuses, codes and messages
# (supabase/auth: internal/api/token.go, signup.go, password.go), so supabase-js and
# supabase-py raise the same errors against Vocalis as against Supabase.


class InvalidCredentials(BadRequest):
    """Invalid login credentials"""

    code = "invalid_credentials"


class UserExists(AppError):
    """User already registered"""

    status_code = 422
    code = "user_already_exists"


class WeakPassword(AppError):
    """Password is too weak."""

    status_code = 422
    code = "weak_password"

    def __init__(self, detail: str | None = None, reasons: tuple[str, ...] = ("length",)):
        super().__init__(detail)
        # GoTrue's vocabulary: "length", "characters", "pwned"; Vocalis checks only length.
        self.reasons = reasons


class InvalidField(BadRequest):
    """Invalid request."""

    code = "validation_failed"


# Argon2 is CPU by design: ten parallel sign-ins would take every core from everyone else's
# requests. At most this many hash at once (half the cores, at least one); the rest wait their
# turn without holding a thread, so an attack slows the attackers, not the polls. One limiter
# per event loop (a limiter belongs to the loop it waits on).
_HASH_SLOTS = max(1, (os.cpu_count() or 2) // 2)
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


async def _hashing(function: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(_HASH_SLOTS)
    return await anyio.to_thread.run_sync(function, *args, limiter=limiter)


# --- users --------------------------------------------------------------------------------


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if not email:
        raise InvalidField("An email address is required")
    if len(email) > 320 or not _EMAIL.fullmatch(email):
        raise InvalidField("Unable to validate email address: invalid format")
    return email


def check_password_length(password: str) -> None:
    """Refused before any hashing: Argon2 over megabytes per request is a cheap attack."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidField(f"Password should be at most {MAX_PASSWORD_LENGTH} characters.")


def check_password(password: str, min_length: int = MIN_PASSWORD_LENGTH) -> None:
    if not password:
        raise InvalidField("Signup requires a valid password")
    if len(password) < min_length:
        raise WeakPassword(f"Password should be at least {min_length} characters.")
    check_password_length(password)


async def create_user(
    session: AsyncSession, email: str, password: str, min_length: int = MIN_PASSWORD_LENGTH
) -> User:
    """A new user and their empty profile, committed. InvalidField for a malformed email,
    WeakPassword for a short password, UserExists for an email already registered."""
    email = normalize_email(email)
    check_password(password, min_length)
    taken = await session.scalar(select(User.id).where(User.email == email)) is not None
    await session.rollback()  # no transaction across the hash (SQLite: it holds the write lock)
    if taken:
        raise UserExists()
    # Argon2 takes tens of milliseconds of CPU; off the event loop, other requests go on.
    password_hash = await _hashing(hash_password, password)
    user = User(id=new_id(), email=email, password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()  # the user row first: the profile's foreign key points at it
        session.add(Profile(id=user.id))
        await session.commit()
    except IntegrityError:  # a concurrent signup with the same email won the race
        await session.rollback()
        raise UserExists() from None
    return user


async def authenticate(
    session: AsyncSession,
    db: Database,
    email: str,
    password: str,
    settings: Settings,
    now: datetime,
) -> User:
    """The user with these credentials, or InvalidCredentials. Unknown emails cost one Argon2
    verification too, so timing does not tell which part was wrong; failures count toward the
    email's lockout (known or not, so the lockout reveals nothing either)."""
    check_password_length(password)
    try:
        email = normalize_email(email)
    except BadRequest:
        email = ""
    if email:
        await check_not_locked(db, email, now)
    user = await session.scalar(select(User).where(User.email == email)) if email else None
    if user is not None:
        session.expunge(user)  # keep its loaded values: the rollback would expire them
    await session.rollback()  # no transaction across the hash (SQLite: it holds the write lock)
    stored = user.password_hash if user is not None else None
    if not await _hashing(verify_password, stored, password) or user is None:
        if email:
            await record_failure(db, email, now, settings)
        raise InvalidCredentials()
    await clear_failures(db, email)
    if password_needs_rehash(user.password_hash):  # parameters were raised since it was set
        new_hash = await _hashing(hash_password, password)
        user = await session.merge(user)
        user.password_hash = (
            new_hash  # committed with the session auth_sessions.issue_session creates
        )
    return user


def user_out(user: User) -> AuthUserOut:
    return AuthUserOut(
        id=user.id,
        email=user.email,
        email_confirmed_at=user.created_at,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise Unauthorized("User from sub claim in JWT does not exist", code="user_not_found")
    return user


# --- profiles -----------------------------------------------------------------------------


async def ensure_profile(session: AsyncSession, user_id: str, email: str) -> Profile:
    """The user's profile, created when missing. A deployment trusting a Supabase project's
    tokens meets users it never signed up; they get a user row (no usable password) and a
    profile the first time they are seen, so their rows have something to belong to."""
    profile = await session.get(Profile, user_id)
    if profile is not None:
        return profile
    try:
        if await session.get(User, user_id) is None:
            session.add(User(id=user_id, email=email.lower(), password_hash=UNUSABLE_PASSWORD))
            await session.flush()
        profile = Profile(id=user_id)
        session.add(profile)
        await session.commit()
    except IntegrityError:  # created concurrently, or the email belongs to another user
        await session.rollback()
        existing = await session.get(Profile, user_id)
        if existing is None:
            raise Conflict("This account cannot be provisioned: its email is in use.") from None
        return existing
    return profile


async def update_profile(
    session: AsyncSession, user_id: str, email: str, changes: ProfileUpdate
) -> Profile:
    profile = await ensure_profile(session, user_id, email)
    fields = changes.model_dump(exclude_unset=True)  # never empty: ProfileUpdate refuses that
    handle = fields.get("handle")
    # Unique regardless of case: "Ada" and "ada" would be indistinguishable to people.
    if handle is not None and await session.scalar(
        select(Profile.id).where(
            func.lower(Profile.handle) == handle.lower(), Profile.id != user_id
        )
    ):
        raise Conflict("That handle is already taken.")
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.updated_at = utcnow()
    try:
        await session.commit()
    except IntegrityError:  # the same handle claimed concurrently
        await session.rollback()
        raise Conflict("That handle is already taken.") from None
    return profile
