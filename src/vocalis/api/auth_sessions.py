"""Sign-in sessions: access tokens and refresh-token families (GoTrue's refresh grant).

A sign-in starts a family (`session_id`); each refresh spends the presented token and issues
the next one in the family. A spent token presented again is reuse - two parties hold it - and
revokes the family, except within the reuse interval (docs/choices.md). Sign-out revokes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vocalis.api.accounts import user_out
from vocalis.api.auth_schemas import AuthSession
from vocalis.api.config import Settings
from vocalis.api.errors import BadRequest
from vocalis.api.models import RefreshToken, User, new_id, utcnow
from vocalis.api.security import create_access_token, hash_refresh_token, new_refresh_token

LogoutScope = Literal["global", "local", "others"]


# GoTrue's refresh-grant failures (supabase/auth: internal/api/token_refresh.go).


class InvalidRefreshToken(BadRequest):
    """Invalid Refresh Token: Refresh Token Not Found"""

    code = "refresh_token_not_found"


class RefreshTokenReused(InvalidRefreshToken):
    """Invalid Refresh Token: Already Used"""

    code = "refresh_token_already_used"


class RefreshTokenExpired(InvalidRefreshToken):
    """Invalid Refresh Token: Refresh Token Expired"""

    # GoTrue's refresh tokens do not expire by themselves; its sessions do (timebox), with
    # this code. Ours expire after refresh_token_days: the same thing to a client.
    code = "session_expired"


async def issue_session(
    session: AsyncSession,
    user: User,
    *,
    secret: str,
    settings: Settings,
    session_id: str | None = None,
) -> AuthSession:
    """Access and refresh tokens for `user`, committing whatever the caller staged with the
    new refresh token. `session_id` continues a family (refresh); None starts one (sign-in)."""
    now = utcnow()
    session_id = session_id or new_id()
    raw = new_refresh_token()
    # Expired tokens are useless even for reuse detection; drop them as we go.
    await session.execute(
        delete(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.expires_at < now)
        .execution_options(synchronize_session=False)
    )
    session.add(
        RefreshToken(
            user_id=user.id,
            session_id=session_id,
            token_hash=hash_refresh_token(raw),
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    await session.commit()
    access, expires_at = create_access_token(
        secret=secret,
        user_id=user.id,
        email=user.email,
        session_id=session_id,
        lifetime_seconds=settings.access_token_seconds,
        now=int(now.timestamp()),
    )
    return AuthSession(
        access_token=access,
        expires_in=settings.access_token_seconds,
        expires_at=expires_at,
        refresh_token=raw,
        user=user_out(user),
    )


async def refresh_session(
    session: AsyncSession, refresh_token: str, *, secret: str, settings: Settings
) -> AuthSession:
    """Rotate: the presented token is spent and a new one issued in the same family. A spent
    token presented again means two parties hold it, so the whole family is revoked - unless
    it was rotated within the reuse interval and its family lives: then the presenter most
    likely lost the answer (a tab reloaded mid-refresh) and gets a token of its own."""
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
    )
    if row is None:
        raise InvalidRefreshToken()
    now = utcnow()
    if row.expires_at <= now:
        raise RefreshTokenExpired()
    # Compare-and-set: of two concurrent refreshes with one token, exactly one wins.
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.revoked.is_(False))
        .values(revoked=True, rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    won = spent.rowcount == 1  # type: ignore[attr-defined]
    if not won and not await _within_reuse_interval(session, row, now, settings):
        await _revoke(session, row.user_id, session_id=row.session_id)
        await session.commit()
        raise RefreshTokenReused()
    user = await session.get(User, row.user_id)
    if user is None:  # unreachable while tokens cascade with their user; kept as a guard
        raise InvalidRefreshToken()
    return await issue_session(
        session, user, secret=secret, settings=settings, session_id=row.session_id
    )


async def _within_reuse_interval(
    session: AsyncSession, row: RefreshToken, now: datetime, settings: Settings
) -> bool:
    """`row` (already spent) was rotated moments ago and its family still has a live token.
    A token revoked by sign-out has no `rotated_at`, and a signed-out family no live token."""
    # Read afresh: a concurrent refresh may have spent it after `row` was loaded.
    rotated_at = await session.scalar(
        select(RefreshToken.rotated_at).where(RefreshToken.id == row.id)
    )
    if rotated_at is None:
        return False
    if now - rotated_at > timedelta(seconds=settings.refresh_token_reuse_seconds):
        return False
    live = await session.scalar(
        select(RefreshToken.id)
        .where(RefreshToken.session_id == row.session_id, RefreshToken.revoked.is_(False))
        .limit(1)
    )
    return live is not None


async def end_sessions(
    session: AsyncSession, user_id: str, session_id: str | None, scope: LogoutScope = "global"
) -> None:
    """Revoke refresh tokens: every session of the user (global, GoTrue's default), this
    one (local), or all but this one (others). Access tokens live out their hour."""
    if scope == "global" or session_id is None:
        await _revoke(session, user_id)
    elif scope == "local":
        await _revoke(session, user_id, session_id=session_id)
    else:
        await _revoke(session, user_id, except_session_id=session_id)
    await session.commit()


async def _revoke(
    session: AsyncSession,
    user_id: str,
    *,
    session_id: str | None = None,
    except_session_id: str | None = None,
) -> None:
    stmt = update(RefreshToken).where(
        RefreshToken.user_id == user_id, RefreshToken.revoked.is_(False)
    )
    if session_id is not None:
        stmt = stmt.where(RefreshToken.session_id == session_id)
    if except_session_id is not None:
        stmt = stmt.where(RefreshToken.session_id != except_session_id)
    await session.execute(stmt.values(revoked=True).execution_options(synchronize_session=False))
