"""Passwords, access tokens, refresh tokens and signed storage URLs. Pure functions, no I/O."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ACCESS_COOKIE = "vocalis_access"
AUDIENCE = "authenticated"
ROLE = "authenticated"
# HS256 only: accepting the algorithm named by the token is how "alg: none" and RS/HS
# confusion attacks get in.
ALGORITHMS = ["HS256"]

_hasher = PasswordHasher()


class TokenError(Exception):
    """The access token is missing, malformed, forged or expired."""


# --- passwords --------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    # Built on first use (not at import) with the same parameters as real hashes, so
    # verifying against it costs what a real verification costs.
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches. With no hash (unknown email) a dummy hash is checked
    anyway, so the answer takes as long either way and timing does not reveal the account."""
    # Anything that is not an Argon2 hash (none, or an account with no usable password) is
    # still answered only after a full verification.
    usable = password_hash if password_hash and password_hash.startswith("$argon2") else None
    try:
        matched = _hasher.verify(usable or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and usable is not None


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# --- access tokens (Supabase-shaped JWTs) -----------------------------------------------


def create_access_token(
    *,
    secret: str,
    user_id: str,
    email: str,
    session_id: str,
    lifetime_seconds: int,
    now: int | None = None,
) -> tuple[str, int]:
    """A signed access token and its expiry (unix seconds)."""
    issued = int(time.time()) if now is None else now
    expires_at = issued + lifetime_seconds
    claims: dict[str, Any] = {
        "sub": user_id,
        "email": email,
        "role": ROLE,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": expires_at,
        "session_id": session_id,
        # Extra Supabase claims, so supabase-js reads our tokens as it reads its own.
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "aal": "aal1",
        "is_anonymous": False,
    }
    return jwt.encode(claims, secret, algorithm="HS256"), expires_at


def decode_access_token(token: str, secret: str) -> dict[str, Any]:
    """The verified claims, or TokenError. Accepts tokens a Supabase project issued with
    the same secret: they carry the same claims (plus some we ignore)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("Token has expired.") from None
    except jwt.InvalidAudienceError:
        raise TokenError("Token has the wrong audience.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"Token is missing the {exc.claim!r} claim.") from None
    except jwt.InvalidTokenError:
        raise TokenError("Invalid token.") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenError("Token is missing the 'sub' claim.")
    # Supabase's anon and service_role keys are valid JWTs with the same secret; they are
    # not users. Only `role: authenticated` tokens name a signed-in user.
    if claims.get("role") != ROLE:
        raise TokenError("Token is not a user token.")
    return claims


# --- refresh tokens ---------------------------------------------------------------------


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # The database keeps only this digest: a leaked table cannot be replayed. SHA-256 is
    # enough (no salt or slow hash) because the token is 256 random bits, not a password.
    return hashlib.sha256(token.encode()).hexdigest()


# --- signed storage URLs ----------------------------------------------------------------


def _url_key(secret: str) -> bytes:
    # A key derived for this one purpose, so a URL signature can never double as anything
    # signed with the JWT secret.
    return hmac.new(secret.encode(), b"vocalis storage url v1", hashlib.sha256).digest()


def url_signature(secret: str, method: str, key: str, expires_at: int) -> str:
    # Keys cannot contain newlines (storage validates them), so the message is unambiguous.
    message = f"{method.upper()}\n{key}\n{int(expires_at)}".encode()
    return hmac.new(_url_key(secret), message, hashlib.sha256).hexdigest()


def sign_url(
    secret: str, method: str, key: str, expires_at: int, *, prefix: str = "/api/storage"
) -> str:
    """A relative URL granting `method` on `key` until `expires_at` (unix seconds)."""
    method = method.upper()
    signature = url_signature(secret, method, key, expires_at)
    return f"{prefix}/{key}?expires={int(expires_at)}&method={method}&sig={signature}"


def verify_url(
    secret: str,
    method: str,
    key: str,
    expires: str | int | None,
    signature: str | None,
    *,
    now: float | None = None,
) -> bool:
    """True when `signature` grants `method` on `key` and `expires` has not passed."""
    if expires is None or not signature:
        return False
    try:
        expires_at = int(expires)
    except ValueError:
        return False
    if expires_at < (time.time() if now is None else now):
        return False
    expected = url_signature(secret, method, key, expires_at)
    return hmac.compare_digest(expected.encode(), signature.encode())
