"""Who is asking: a bearer token (a Supabase-shaped JWT, or an API key `vk_…`) or, for reads,
the HttpOnly cookie, resolved to an AuthUser. One Authenticator per app, with two bounded caches
so the poll path stays one dictionary lookup per request.

- JWTs: verifying one (PyJWT: parse, HMAC, claim checks) was ~8% of a poll's CPU
  (bench/poll.py), and a browser sends the same token every second. Tokens that passed are kept
  (keyed by the whole token, signature included) with their expiry, re-checked on every use: the
  answer is the one a full verification would give (nbf and iat only ever turn valid).
- API keys: a key is looked up in the database (which also records its use) at most once per
  API_KEY_CACHE_SECONDS per process. A revoked key is therefore refused by every replica within
  that many seconds, and at once by the replica that revoked it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from starlette.requests import Request

from vocalis.api.api_keys import is_api_key, key_hash, owner_of
from vocalis.api.db import Database
from vocalis.api.errors import Unauthorized
from vocalis.api.security import ACCESS_COOKIE, TokenError, decode_access_token

V = TypeVar("V")

API_KEY_CACHE_SECONDS = 5.0
CACHE_MAX = 10_000
# Cookies authenticate only safe requests (media players, download links); anything that
# changes state needs the Authorization header, so a cross-site form cannot act as the user.
_COOKIE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class AuthUser:
    id: str
    email: str
    session_id: str | None  # None for an API key
    api_key: bool = False


class Authenticator:
    def __init__(
        self,
        secret: str,
        db: Database,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret = secret
        self._db = db
        self._clock = clock
        self._monotonic = monotonic
        self._tokens: dict[str, tuple[AuthUser, float]] = {}  # token -> (user, exp, epoch s)
        self._keys: dict[str, tuple[AuthUser | None, float]] = {}  # hash -> (user, fresh until)

    async def user(self, request: Request) -> AuthUser | None:
        """The caller, or None when no credential came; Unauthorized for a bad one."""
        token = token_of(request)
        if token is None:
            return None
        if not token:
            raise Unauthorized("Not authenticated.")
        if is_api_key(token):
            return await self._key_user(token)
        return self._jwt_user(token)

    def forget_key(self, hashed: str) -> None:
        self._keys.pop(hashed, None)

    def _jwt_user(self, token: str) -> AuthUser:
        known = self._tokens.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        try:
            claims = decode_access_token(token, self._secret)
        except TokenError as exc:
            raise Unauthorized(str(exc)) from None
        user = AuthUser(claims["sub"], claims.get("email", ""), claims.get("session_id"))
        _remember(self._tokens, token, (user, float(claims["exp"])))
        return user

    async def _key_user(self, key: str) -> AuthUser:
        hashed = key_hash(key)
        known = self._keys.get(hashed)
        if known is None or self._monotonic() >= known[1]:
            owner = await owner_of(self._db, key, self._clock())
            user = AuthUser(owner.user_id, owner.email, None, api_key=True) if owner else None
            known = (user, self._monotonic() + API_KEY_CACHE_SECONDS)
            _remember(self._keys, hashed, known)
        if known[0] is None:
            raise Unauthorized("Invalid API key: it was revoked, or never existed.")
        return known[0]


def token_of(request: Request) -> str | None:
    """The bearer token; the cookie's on GET/HEAD; "" for a malformed header; None if none."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else ""
    if request.method in _COOKIE_METHODS:
        return request.cookies.get(ACCESS_COOKIE)
    return None


def _remember(cache: dict[str, V], key: str, value: V) -> None:
    if len(cache) >= CACHE_MAX:
        del cache[next(iter(cache))]  # the oldest entry
    cache[key] = value
