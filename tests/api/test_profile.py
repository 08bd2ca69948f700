"""`/api/me` (soft auth) and `PATCH /api/profile`."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.conftest import SignedIn
from vocalis.api.models import Profile, User

PROFILE_FIELDS = {"id", "handle", "display_name", "avatar_url", "created_at", "updated_at"}


async def test_me_signed_out(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me")
    assert response.status_code == 200
    assert response.json() == {"signed_in": False, "user": None, "profile": None}


async def test_me_signed_in(client: httpx.AsyncClient, user: SignedIn) -> None:
    response = await client.get("/api/me", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["signed_in"] is True
    assert body["user"] == {"id": user.id, "email": user.email}
    profile = body["profile"]
    assert set(profile) == PROFILE_FIELDS
    assert profile["id"] == user.id
    assert profile["handle"] is None and profile["display_name"] is None
    assert profile["created_at"].endswith("Z")


async def test_patch_profile_and_read_it_back(client: httpx.AsyncClient, user: SignedIn) -> None:
    before = (await client.get("/api/me", headers=user.headers)).json()["profile"]
    changes = {
        "handle": "Ada_Lovelace",
        "display_name": "  Ada Lovelace  ",
        "avatar_url": "https://example.com/a.png",
    }
    response = await client.patch("/api/profile", json=changes, headers=user.headers)
    assert response.status_code == 200, response.text
    profile = response.json()["profile"]
    assert set(profile) == PROFILE_FIELDS
    assert profile["handle"] == "Ada_Lovelace"
    assert profile["display_name"] == "Ada Lovelace"  # trimmed
    assert profile["avatar_url"] == "https://example.com/a.png"
    assert profile["updated_at"] >= before["updated_at"]
    assert profile["created_at"] == before["created_at"]
    assert (await client.get("/api/me", headers=user.headers)).json()["profile"] == profile

    # Partial update leaves the rest; null clears.
    response = await client.patch("/api/profile", json={"avatar_url": None}, headers=user.headers)
    cleared = response.json()["profile"]
    assert cleared["avatar_url"] is None and cleared["handle"] == "Ada_Lovelace"


async def test_blank_strings_clear_fields(client: httpx.AsyncClient, user: SignedIn) -> None:
    """Utter's forms send "" for a field left blank: it means null, whatever the field."""
    full = {"handle": "ada", "display_name": "Ada", "avatar_url": "https://example.com/a.png"}
    assert (await client.patch("/api/profile", json=full, headers=user.headers)).status_code == 200
    for field in full:
        blank = "   " if field == "display_name" else ""
        response = await client.patch("/api/profile", json={field: blank}, headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json()["profile"][field] is None
    profile = (await client.get("/api/me", headers=user.headers)).json()["profile"]
    assert {field: profile[field] for field in full} == dict.fromkeys(full)


@pytest.mark.parametrize("body", [{}, {"email": "new@example.com"}, {"bogus": 1, "other": None}])
async def test_a_body_with_no_known_field_is_400(
    client: httpx.AsyncClient, user: SignedIn, body: dict[str, Any]
) -> None:
    await client.patch("/api/profile", json={"handle": "ada"}, headers=user.headers)
    response = await client.patch("/api/profile", json=body, headers=user.headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "No valid fields to update."}
    profile = (await client.get("/api/me", headers=user.headers)).json()["profile"]
    assert profile["handle"] == "ada"


async def test_handles_are_unique_regardless_of_case(
    client: httpx.AsyncClient, user: SignedIn, other_user: SignedIn
) -> None:
    taken = await client.patch("/api/profile", json={"handle": "ada"}, headers=user.headers)
    assert taken.status_code == 200
    for handle in ("ada", "ADA"):
        response = await client.patch(
            "/api/profile", json={"handle": handle}, headers=other_user.headers
        )
        assert response.status_code == 409
        assert response.json() == {"detail": "That handle is already taken."}
    # Re-saving (or re-casing) your own handle is fine.
    mine = await client.patch("/api/profile", json={"handle": "Ada"}, headers=user.headers)
    assert mine.status_code == 200 and mine.json()["profile"]["handle"] == "Ada"
    # Once released, it can be claimed.
    await client.patch("/api/profile", json={"handle": None}, headers=user.headers)
    claimed = await client.patch("/api/profile", json={"handle": "ada"}, headers=other_user.headers)
    assert claimed.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"handle": "ab"}, "handle"),
        ({"handle": "a" * 31}, "handle"),
        ({"handle": "bad-handle"}, "handle"),
        ({"handle": "spaced out"}, "handle"),
        ({"handle": "héllo"}, "handle"),
        ({"handle": 12345}, "handle"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"display_name": ["x"]}, "display_name"),
        ({"avatar_url": "ftp://example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "https://"}, "avatar_url"),
        ({"avatar_url": "https://example.com/" + "a" * 2048}, "avatar_url"),
        ({"email": "new@example.com", "display_name": "Ada"}, "email"),
        ({"handle": "fine_one", "bogus": 1}, "bogus"),
    ],
)
async def test_invalid_profile_fields_are_400(
    client: httpx.AsyncClient, user: SignedIn, body: dict[str, Any], field: str
) -> None:
    response = await client.patch("/api/profile", json=body, headers=user.headers)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")
    profile = (await client.get("/api/me", headers=user.headers)).json()["profile"]
    assert profile["handle"] is None  # nothing was applied


async def test_patch_profile_checks_auth_before_the_body(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    assert (await client.patch("/api/profile", content=b"{oops")).status_code == 401
    assert (await client.patch("/api/profile", json={"handle": "x"})).status_code == 401
    response = await client.patch("/api/profile", content=b"{oops", headers=user.headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid JSON body"}


async def test_token_from_a_trusted_supabase_project_gets_an_account(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # A deployment that shares its JWT secret with a Supabase project meets users it never
    # signed up. They are provisioned (no usable password) the first time they are seen.
    user_id = str(uuid.uuid4())
    now = int(time.time())
    claims = {
        "iss": "https://abcd.supabase.co/auth/v1",
        "sub": user_id,
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now,
        "email": "grace@example.com",
        "phone": "",
        "role": "authenticated",
        "aal": "aal1",
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    headers = {"Authorization": "Bearer " + jwt.encode(claims, app.state.jwt_secret)}
    me = await client.get("/api/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["signed_in"] is True and me.json()["profile"]["id"] == user_id
    response = await client.patch("/api/profile", json={"handle": "grace"}, headers=headers)
    assert response.status_code == 200
    async with app.state.db.sessions() as session:
        user = await session.get(User, user_id)
        profile = await session.get(Profile, user_id)
    assert user is not None and user.email == "grace@example.com"
    assert profile is not None and profile.handle == "grace"
    # It cannot be signed into with a password (there is none).
    login = await client.post(
        "/auth/v1/token",
        params={"grant_type": "password"},
        json={"email": "grace@example.com", "password": "!"},
    )
    assert login.status_code == 400
