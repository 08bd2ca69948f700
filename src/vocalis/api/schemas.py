"""Request and response models: the JSON contract of SPEC.md §3 and §4."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

# --- auth (GoTrue-compatible, SPEC §4) ----------------------------------------------------


class Credentials(BaseModel):
    # GoTrue clients send more (data, options, gotrue_meta_security); ignore what we don't use.
    model_config = ConfigDict(extra="ignore")

    email: str
    password: str


class RefreshGrant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    refresh_token: str


class AuthUserOut(BaseModel):
    """The user object GoTrue returns; the fields supabase-js reads are all present."""

    id: str
    aud: str = "authenticated"
    role: str = "authenticated"
    email: str
    # No confirmation mail is sent: accounts are confirmed on signup (GoTrue's autoconfirm).
    email_confirmed_at: datetime | None
    phone: str = ""
    app_metadata: dict[str, Any] = Field(
        default_factory=lambda: {"provider": "email", "providers": ["email"]}
    )
    user_metadata: dict[str, Any] = Field(default_factory=dict)
    identities: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    is_anonymous: bool = False


class AuthSession(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    expires_at: int
    refresh_token: str
    user: AuthUserOut


# --- profile (SPEC §3) --------------------------------------------------------------------

_HANDLE = re.compile(r"[A-Za-z0-9_]{3,30}")


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    handle: str | None
    display_name: str | None
    avatar_url: str | None
    created_at: datetime
    updated_at: datetime


class ProfileUpdate(BaseModel):
    """PATCH body: any of the fields; null clears one. Unknown fields are refused so a typo
    does not silently change nothing."""

    model_config = ConfigDict(extra="forbid")

    handle: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        if value is not None and not _HANDLE.fullmatch(value):
            raise PydanticCustomError(
                "handle", "must be 3–30 characters: letters, digits and underscores"
            )
        return value

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not 1 <= len(value) <= 100:
            raise PydanticCustomError("display_name", "must be 1–100 characters")
        return value

    @field_validator("avatar_url")
    @classmethod
    def _avatar_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _is_http_url(value):
            raise PydanticCustomError("avatar_url", "must be an http(s) URL or null")
        return value


def _is_http_url(value: str) -> bool:
    if len(value) > 2048 or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        return False


class ProfileEnvelope(BaseModel):
    profile: ProfileOut


class MeUser(BaseModel):
    id: str
    email: str


class MeOut(BaseModel):
    signed_in: bool
    user: MeUser | None
    profile: ProfileOut | None
