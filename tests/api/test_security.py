"""Passwords, access tokens, refresh tokens and signed URLs (pure functions)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from vocalis.api import security
from vocalis.api.security import (
    TokenError,
    create_access_token,
    decode_access_token,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    sign_url,
    url_signature,
    verify_password,
    verify_url,
)

SECRET = "s3cret-" + "y" * 60


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def user_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "email": "ada@example.com",
        "role": "authenticated",
        "aud": "authenticated",
        "iat": now,
        "exp": now + 3600,
        "session_id": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# --- passwords ----------------------------------------------------------------------------


def test_password_round_trip() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterx")
    assert hash_password("correct horse battery") != hashed  # salted


@pytest.mark.parametrize("stored", [None, "", "!", "not-a-hash"])
def test_no_usable_hash_never_verifies(stored: str | None) -> None:
    assert not verify_password(stored, "anything at all")


def test_unknown_account_costs_a_full_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is stored, one real Argon2 verification runs, against a hash with the same
    cost parameters as a real one — so timing cannot tell the cases apart. Checked by what was
    verified, not by a stopwatch."""
    real = hash_password("correct horse battery")
    verified: list[str] = []
    hasher = security._hasher

    class Spy:
        def hash(self, password: str) -> str:
            return hasher.hash(password)

        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return hasher.verify(hash_, password)

    monkeypatch.setattr(security, "_hasher", Spy())
    for stored in (real, None, "!", "not-a-hash"):
        assert not verify_password(stored, "wrong password!")
    parameters = [h.rsplit("$", 2)[0] for h in verified]  # $argon2id$v=19$m=…,t=…,p=…
    assert len(verified) == 4 and len(set(parameters)) == 1, parameters


# --- access tokens ------------------------------------------------------------------------


def test_access_token_carries_supabase_claims() -> None:
    user_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    token, expires_at = create_access_token(
        secret=SECRET,
        user_id=user_id,
        email="ada@example.com",
        session_id=session_id,
        lifetime_seconds=3600,
        now=int(time.time()),
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = decode_access_token(token, SECRET)
    assert claims["sub"] == user_id
    assert claims["email"] == "ada@example.com"
    assert claims["role"] == "authenticated"
    assert claims["aud"] == "authenticated"
    assert claims["session_id"] == session_id
    assert claims["exp"] == expires_at == claims["iat"] + 3600


def test_supabase_issued_token_is_accepted() -> None:
    # The claim set a Supabase project puts in a user's access token.
    claims = user_claims(
        iss="https://abcd.supabase.co/auth/v1",
        phone="",
        app_metadata={"provider": "email", "providers": ["email"]},
        user_metadata={"email_verified": True},
        aal="aal1",
        amr=[{"method": "password", "timestamp": int(time.time())}],
        is_anonymous=False,
    )
    token = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "abc", "typ": "JWT"})
    assert decode_access_token(token, SECRET)["sub"] == claims["sub"]


def _alg_none(claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _tampered(claims: dict[str, Any]) -> str:
    header, _payload, signature = jwt.encode(claims, SECRET, algorithm="HS256").split(".")
    return f"{header}.{_b64({**claims, 'sub': str(uuid.uuid4())})}.{signature}"


BAD_TOKENS = {
    "expired": lambda: jwt.encode(
        user_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 10), SECRET
    ),
    "forged": lambda: jwt.encode(user_claims(), "some-other-secret-" + "z" * 30),
    "alg none": lambda: _alg_none(user_claims()),
    "tampered payload": lambda: _tampered(user_claims()),
    "wrong audience": lambda: jwt.encode(user_claims(aud="service"), SECRET),
    "no audience": lambda: jwt.encode(user_claims(aud=None), SECRET),
    "missing sub": lambda: jwt.encode(user_claims(sub=None), SECRET),
    "empty sub": lambda: jwt.encode(user_claims(sub=""), SECRET),
    "missing exp": lambda: jwt.encode(user_claims(exp=None), SECRET),
    "anon key": lambda: jwt.encode(user_claims(role="anon", sub=None), SECRET),
    "service role": lambda: jwt.encode(user_claims(role="service_role"), SECRET),
    "HS512": lambda: jwt.encode(user_claims(), SECRET, algorithm="HS512"),
    "garbage": lambda: "not.a.token",
    "empty": lambda: "",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_tokens_are_refused(kind: str) -> None:
    with pytest.raises(TokenError):
        decode_access_token(BAD_TOKENS[kind](), SECRET)


# --- refresh tokens -----------------------------------------------------------------------


def test_refresh_tokens_are_random_and_stored_hashed() -> None:
    tokens = {new_refresh_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) >= 40
    digest = hash_refresh_token(token)
    assert digest == hash_refresh_token(token)
    assert len(digest) == 64 and token not in digest


# --- signed URLs --------------------------------------------------------------------------


def test_signed_url_shape_and_verification() -> None:
    expires = int(time.time()) + 60
    url = sign_url(SECRET, "get", "references/u/v/reference.wav", expires)
    path, _, query = url.partition("?")
    assert path == "/api/storage/references/u/v/reference.wav"
    params = dict(p.split("=", 1) for p in query.split("&"))
    assert params["method"] == "GET" and params["expires"] == str(expires)
    key = "references/u/v/reference.wav"
    assert verify_url(SECRET, "GET", key, params["expires"], params["sig"])
    assert not verify_url(SECRET, "PUT", key, params["expires"], params["sig"])
    assert not verify_url(SECRET, "GET", key + "x", params["expires"], params["sig"])
    assert not verify_url(SECRET, "GET", key, str(expires + 1), params["sig"])
    assert not verify_url("other-secret", "GET", key, params["expires"], params["sig"])
    # A tampered signature: its last character changed (to "0", or "1" when it already was "0").
    tampered = params["sig"][:-1] + ("1" if params["sig"].endswith("0") else "0")
    assert not verify_url(SECRET, "GET", key, params["expires"], tampered)


@pytest.mark.parametrize(
    ("expires", "sig"), [(None, "abc"), ("soon", "abc"), ("1e12", "abc"), ("123", None)]
)
def test_malformed_signature_parameters_fail(expires: str | None, sig: str | None) -> None:
    assert not verify_url(SECRET, "GET", "a.wav", expires, sig)


def test_expired_signature_fails() -> None:
    expires = int(time.time()) - 1
    signature = url_signature(SECRET, "GET", "a.wav", expires)
    assert not verify_url(SECRET, "GET", "a.wav", str(expires), signature)
    assert verify_url(SECRET, "GET", "a.wav", str(expires), signature, now=expires - 5)
