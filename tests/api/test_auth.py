"""GoTrue-compatible auth: signup, password and refresh grants, user, logout, bad tokens."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.conftest import SignedIn
from vocalis.api.config import Settings
from vocalis.api.models import Profile, RefreshToken, User, utcnow
from vocalis.api.security import ACCESS_COOKIE

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def gotrue_error(response: httpx.Response, status: int, code: str) -> str:
    """Assert GoTrue's error body (plus `detail`, which Vocalis's web app reads); the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["error_code"] == code, body
    assert isinstance(body["msg"], str) and body["msg"] and body["detail"] == body["msg"]
    assert set(body) <= {"code", "error_code", "msg", "detail", "weak_password"}
    return str(body["msg"])


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/auth/v1/token", params={"grant_type": "refresh_token"}, json={"refresh_token": token}
    )


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/auth/v1/token",
        params={"grant_type": "password"},
        json={"email": email, "password": password},
    )


# --- signup -------------------------------------------------------------------------------


async def test_signup_returns_a_session_and_sets_the_cookie(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post(
        "/auth/v1/signup", json={"email": "  Ada@Example.COM ", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert abs(body["expires_at"] - (time.time() + 3600)) < 60
    assert body["refresh_token"] and body["access_token"]
    user = body["user"]
    assert user["email"] == "ada@example.com"
    assert user["aud"] == "authenticated" and user["role"] == "authenticated"
    assert uuid.UUID(user["id"]) and user["created_at"].endswith("Z")

    claims = jwt.decode(
        body["access_token"], app.state.jwt_secret, algorithms=["HS256"], audience="authenticated"
    )
    assert claims["sub"] == user["id"] and claims["email"] == "ada@example.com"
    assert claims["role"] == "authenticated" and claims["exp"] - claims["iat"] == 3600
    assert uuid.UUID(claims["session_id"])

    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{ACCESS_COOKIE}={body['access_token']};")
    for attribute in ("HttpOnly", "Max-Age=3600", "Path=/", "SameSite=lax"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # cookie_secure defaults off (plain-HTTP laptop)

    async with app.state.db.sessions() as session:
        stored = await session.get(User, user["id"])
        assert stored is not None and stored.password_hash.startswith("$argon2")
        assert PASSWORD not in stored.password_hash
        profile = await session.get(Profile, user["id"])
        assert profile is not None and profile.handle is None


async def test_duplicate_signup_is_refused(client: httpx.AsyncClient, user: SignedIn) -> None:
    for email in (user.email, user.email.upper()):
        response = await client.post(
            "/auth/v1/signup", json={"email": email, "password": "another password"}
        )
        assert gotrue_error(response, 422, "user_already_exists") == "User already registered"


async def test_a_short_password_is_a_weak_password(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/v1/signup", json={"email": "ada@example.com", "password": "short"}
    )
    message = gotrue_error(response, 422, "weak_password")
    assert message == "Password should be at least 8 characters."
    assert response.json()["weak_password"] == {"reasons": ["length"]}


@pytest.mark.parametrize("minimum", [6, 12])
async def test_the_minimum_password_length_is_a_setting(
    app: FastAPI, client: httpx.AsyncClient, minimum: int
) -> None:
    app.state.settings.password_min_length = minimum
    short = await client.post(
        "/auth/v1/signup", json={"email": "a@example.com", "password": "p" * (minimum - 1)}
    )
    assert gotrue_error(short, 422, "weak_password") == (
        f"Password should be at least {minimum} characters."
    )
    enough = await client.post(
        "/auth/v1/signup", json={"email": "a@example.com", "password": "p" * minimum}
    )
    assert enough.status_code == 200, enough.text


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"email": "ada@example.com", "password": "x" * 2000}, "at most 1024"),
        ({"email": "ada@example.com", "password": ""}, "Signup requires a valid password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@b", "password": PASSWORD}, "email"),
        ({"email": "a b@c.com", "password": PASSWORD}, "email"),
        ({"email": " ", "password": PASSWORD}, "An email address is required"),
        ({"password": PASSWORD}, "email"),
        ({"email": "ada@example.com"}, "password"),
        ({"email": 5, "password": PASSWORD}, "email"),
    ],
)
async def test_signup_validation(
    client: httpx.AsyncClient, body: dict[str, Any], detail: str
) -> None:
    response = await client.post("/auth/v1/signup", json=body)
    assert detail in gotrue_error(response, 400, "validation_failed")


@pytest.mark.parametrize(
    "path",
    [
        "/auth/v1/signup",
        "/auth/v1/token?grant_type=password",
        "/auth/v1/token?grant_type=refresh_token",
    ],
)
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
async def test_malformed_json_is_400(client: httpx.AsyncClient, path: str, raw: bytes) -> None:
    response = await client.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert gotrue_error(response, 400, "bad_json") == "Invalid JSON body"


# --- password grant -----------------------------------------------------------------------


async def test_login(client: httpx.AsyncClient, user: SignedIn) -> None:
    response = await login(client, user.email.upper(), user.password)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == user.id
    assert ACCESS_COOKIE in response.cookies
    # A new sign-in is a new session (refresh-token family).
    new_sid = jwt.decode(body["access_token"], options={"verify_signature": False})["session_id"]
    old_sid = jwt.decode(user.session["access_token"], options={"verify_signature": False})[
        "session_id"
    ]
    assert new_sid != old_sid


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    attempts = [
        (user.email, "wrong password"),
        ("nobody@example.com", user.password),
        ("not an email", user.password),
        (user.email, ""),
    ]
    for email, password in attempts:
        response = await login(client, email, password)
        assert gotrue_error(response, 400, "invalid_credentials") == "Invalid login credentials"
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize("grant", [None, "", "client_credentials", "PASSWORD"])
async def test_unsupported_grant_type(client: httpx.AsyncClient, grant: str | None) -> None:
    params = {} if grant is None else {"grant_type": grant}
    response = await client.post("/auth/v1/token", params=params, json={})
    assert "grant_type" in gotrue_error(response, 400, "validation_failed")


# --- refresh grant ------------------------------------------------------------------------


async def test_refresh_rotates(client: httpx.AsyncClient, user: SignedIn) -> None:
    first = user.session["refresh_token"]
    response = await refresh(client, first)
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first
    assert second["user"]["id"] == user.id
    assert ACCESS_COOKIE in response.cookies
    sid = jwt.decode(second["access_token"], options={"verify_signature": False})["session_id"]
    old_sid = jwt.decode(user.session["access_token"], options={"verify_signature": False})
    assert sid == old_sid["session_id"]  # same family
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200


async def age_rotations(app: FastAPI, user_id: str, seconds: float) -> None:
    """Move every rotation of `user_id`'s tokens `seconds` into the past (the reuse interval)."""
    async with app.state.db.sessions() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.rotated_at.is_not(None))
            .values(rotated_at=utcnow() - timedelta(seconds=seconds))
        )
        await session.commit()


async def live_tokens(app: FastAPI, user_id: str) -> int:
    async with app.state.db.sessions() as session:
        live = await session.scalar(
            select(func.count()).where(
                RefreshToken.user_id == user_id, RefreshToken.revoked.is_(False)
            )
        )
    return int(live or 0)


def session_id(access_token: str) -> str:
    return str(jwt.decode(access_token, options={"verify_signature": False})["session_id"])


async def test_reusing_a_rotated_token_revokes_the_family(
    client: httpx.AsyncClient, user: SignedIn, app: FastAPI, settings: Settings
) -> None:
    other_session = (await login(client, user.email, user.password)).json()
    stolen = user.session["refresh_token"]
    current = (await refresh(client, stolen)).json()["refresh_token"]
    await age_rotations(app, user.id, settings.refresh_token_reuse_seconds + 1)

    reuse = await refresh(client, stolen)
    message = gotrue_error(reuse, 400, "refresh_token_already_used")
    assert message == "Invalid Refresh Token: Already Used"
    # The legitimate holder's newest token is dead too: whoever has the stolen copy is out.
    assert (await refresh(client, current)).status_code == 400
    # Other sign-ins of the same user are separate families and live on.
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200

    assert await live_tokens(app, user.id) == 1


async def test_a_token_presented_again_within_the_interval_continues_its_session(
    client: httpx.AsyncClient, user: SignedIn, app: FastAPI, settings: Settings
) -> None:
    """A tab reloaded mid-refresh never stored the rotated token and presents the old one:
    within the reuse interval that is not theft, and every holder stays signed in."""
    first = user.session["refresh_token"]
    kept = (await refresh(client, first)).json()  # the answer the reloaded tab lost
    again = await refresh(client, first)
    assert again.status_code == 200, again.text
    retried = again.json()
    assert retried["refresh_token"] not in (first, kept["refresh_token"])
    assert session_id(retried["access_token"]) == session_id(kept["access_token"])
    # Both tokens of the family live on, each rotating on its own.
    for token in (kept["refresh_token"], retried["refresh_token"]):
        assert (await refresh(client, token)).status_code == 200
    # Past the interval the same presentation is reuse, and the family goes.
    await age_rotations(app, user.id, settings.refresh_token_reuse_seconds + 1)
    gotrue_error(await refresh(client, first), 400, "refresh_token_already_used")
    assert await live_tokens(app, user.id) == 0


async def test_a_signed_out_token_gets_no_reuse_interval(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    first = user.session["refresh_token"]
    second = (await refresh(client, first)).json()
    assert (
        await client.post("/auth/v1/logout", headers=bearer(second["access_token"]))
    ).status_code == 204
    # Rotated a moment ago, but its family is signed out: nothing to continue.
    gotrue_error(await refresh(client, first), 400, "refresh_token_already_used")
    gotrue_error(await refresh(client, second["refresh_token"]), 400, "refresh_token_already_used")


async def test_concurrent_refreshes_of_one_token_each_continue_the_session(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    results = await asyncio.gather(
        *(refresh(client, user.session["refresh_token"]) for _ in range(3))
    )
    assert [r.status_code for r in results] == [200, 200, 200], [r.text for r in results]
    assert len({r.json()["refresh_token"] for r in results}) == 3


async def test_without_an_interval_concurrent_refreshes_have_one_winner(
    client: httpx.AsyncClient, user: SignedIn, settings: Settings
) -> None:
    settings.refresh_token_reuse_seconds = 0  # the app reads the settings it was built with
    results = await asyncio.gather(
        *(refresh(client, user.session["refresh_token"]) for _ in range(3))
    )
    assert sorted(r.status_code for r in results) == [200, 400, 400]


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 43])
async def test_unknown_refresh_token(client: httpx.AsyncClient, token: str) -> None:
    response = await refresh(client, token)
    message = gotrue_error(response, 400, "refresh_token_not_found")
    assert message == "Invalid Refresh Token: Refresh Token Not Found"


async def test_expired_refresh_token(
    client: httpx.AsyncClient, user: SignedIn, app: FastAPI
) -> None:
    async with app.state.db.sessions() as session:
        for row in await session.scalars(
            select(RefreshToken).where(RefreshToken.user_id == user.id)
        ):
            row.expires_at = row.created_at.replace(year=2000)
        await session.commit()
    response = await refresh(client, user.session["refresh_token"])
    assert "Expired" in gotrue_error(response, 400, "session_expired")


# --- user and logout ----------------------------------------------------------------------


async def test_get_user(client: httpx.AsyncClient, user: SignedIn) -> None:
    response = await client.get("/auth/v1/user", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.id and body["email"] == user.email
    assert body["aud"] == "authenticated"
    # The HttpOnly cookie authenticates reads too (what <audio src> relies on).
    client.cookies.set(ACCESS_COOKIE, user.session["access_token"])
    assert (await client.get("/auth/v1/user")).status_code == 200
    client.cookies.clear()


async def test_logout_revokes_every_session_and_clears_the_cookie(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    second = (await login(client, user.email, user.password)).json()
    response = await client.post("/auth/v1/logout", headers=user.headers)
    assert response.status_code == 204 and response.content == b""
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f'{ACCESS_COOKIE}="";') or cookie.startswith(f"{ACCESS_COOKIE}=;")
    assert "max-age=0" in cookie.lower()
    assert (await refresh(client, user.session["refresh_token"])).status_code == 400
    assert (await refresh(client, second["refresh_token"])).status_code == 400


async def test_local_logout_keeps_other_sessions(client: httpx.AsyncClient, user: SignedIn) -> None:
    second = (await login(client, user.email, user.password)).json()
    response = await client.post("/auth/v1/logout?scope=local", headers=user.headers)
    assert response.status_code == 204
    assert (await refresh(client, user.session["refresh_token"])).status_code == 400
    assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_logout_needs_a_bearer_token(client: httpx.AsyncClient, user: SignedIn) -> None:
    assert (await client.post("/auth/v1/logout")).status_code == 401
    # A cookie does not authenticate state changes (a cross-site form could send it).
    client.cookies.set(ACCESS_COOKIE, user.session["access_token"])
    assert (await client.post("/auth/v1/logout")).status_code == 401
    client.cookies.clear()
    assert (await refresh(client, user.session["refresh_token"])).status_code == 200


# --- tokens that must not authenticate ------------------------------------------------------


def _claims(user: SignedIn, **overrides: Any) -> dict[str, Any]:
    claims = jwt.decode(user.session["access_token"], options={"verify_signature": False})
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


BadToken = Callable[[SignedIn, str], str]
BAD_TOKENS: dict[str, BadToken] = {
    "expired": lambda u, s: jwt.encode(_claims(u, exp=int(time.time()) - 5), s),
    "forged": lambda u, s: jwt.encode(_claims(u), "not-the-secret-" + "q" * 40),
    "alg none": lambda u, s: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(u))}.",
    "wrong audience": lambda u, s: jwt.encode(_claims(u, aud="other"), s),
    "missing sub": lambda u, s: jwt.encode(_claims(u, sub=None), s),
    "garbage": lambda u, s: "garbage",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
async def test_bad_tokens_are_401_and_soft_auth_says_signed_out(
    client: httpx.AsyncClient, app: FastAPI, user: SignedIn, kind: str
) -> None:
    token = BAD_TOKENS[kind](user, app.state.jwt_secret)
    response = await client.get("/auth/v1/user", headers=bearer(token))
    gotrue_error(response, 401, "bad_jwt")
    assert (await client.post("/auth/v1/logout", headers=bearer(token))).status_code == 401
    me = await client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {"signed_in": False, "user": None, "profile": None}


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/v1/user")
    gotrue_error(response, 401, "no_authorization")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_of_a_deleted_user_is_user_not_found(
    client: httpx.AsyncClient, app: FastAPI, user: SignedIn
) -> None:
    async with app.state.db.sessions() as session:
        await session.delete(await session.get(User, user.id))
        await session.commit()
    response = await client.get("/auth/v1/user", headers=user.headers)
    gotrue_error(response, 401, "user_not_found")


async def test_only_auth_routes_answer_in_the_gotrue_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/voices")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated."}
