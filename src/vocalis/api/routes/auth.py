"""GoTrue-compatible auth (`/auth/v1`): signup, token (password, refresh_token), user, logout."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vocalis.api.accounts import authenticate, create_user, get_user, user_out
from vocalis.api.auth_schemas import AuthSession, AuthUserOut, Credentials, RefreshGrant
from vocalis.api.auth_sessions import LogoutScope, end_sessions, issue_session, refresh_session
from vocalis.api.body import read_model
from vocalis.api.config import Settings
from vocalis.api.deps import (
    AuthRateLimit,
    ClockDep,
    CurrentUser,
    DatabaseDep,
    JwtSecretDep,
    SessionDep,
    SettingsDep,
)
from vocalis.api.errors import BadRequest
from vocalis.api.openapi import json_body
from vocalis.api.security import ACCESS_COOKIE

router = APIRouter(prefix="/auth/v1", tags=["auth"])


def _set_access_cookie(response: Response, auth: AuthSession, settings: Settings) -> None:
    # For what cannot send a header (<audio src>, download links); deps.py honours the
    # cookie on GET/HEAD only, and SameSite=Lax keeps it off cross-site subrequests.
    response.set_cookie(
        ACCESS_COOKIE,
        auth.access_token,
        max_age=settings.access_token_seconds,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


@router.post("/signup", dependencies=[AuthRateLimit], openapi_extra=json_body(Credentials))
async def signup(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    secret: JwtSecretDep,
) -> AuthSession:
    """Create an account with email and password, and sign in."""
    body = await read_model(request, Credentials)
    user = await create_user(session, body.email, body.password, settings.password_min_length)
    auth = await issue_session(session, user, secret=secret, settings=settings)
    _set_access_cookie(response, auth, settings)
    return auth


@router.post(
    "/token", dependencies=[AuthRateLimit], openapi_extra=json_body(Credentials, RefreshGrant)
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
    secret: JwtSecretDep,
    clock: ClockDep,
    grant_type: str | None = None,
) -> AuthSession:
    """Sign in (grant_type=password) or rotate a refresh token (grant_type=refresh_token)."""
    if grant_type == "password":
        credentials = await read_model(request, Credentials)
        email, password = credentials.email, credentials.password
        user = await authenticate(session, db, email, password, settings, clock())
        auth = await issue_session(session, user, secret=secret, settings=settings)
    elif grant_type == "refresh_token":
        grant = await read_model(request, RefreshGrant)
        auth = await refresh_session(session, grant.refresh_token, secret=secret, settings=settings)
    else:
        raise BadRequest("Unsupported grant_type: use password or refresh_token.")
    _set_access_cookie(response, auth, settings)
    return auth


@router.get("/user")
async def current(user: CurrentUser, session: SessionDep) -> AuthUserOut:
    """The signed-in user."""
    return user_out(await get_user(session, user.id))


@router.post("/logout", status_code=204)
async def logout(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, scope: LogoutScope = "global"
) -> Response:
    """Sign out: revoke refresh tokens (every session by default) and clear the cookie."""
    await end_sessions(session, user.id, user.session_id, scope)
    response = Response(status_code=204)
    response.delete_cookie(
        ACCESS_COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
    )
    return response
