"""The profile's request and response models (SPEC §3: GET /api/me, PATCH /api/profile); the
rest of the studio API's are in schemas.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

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
    """PATCH body: any of the fields; null or "" clears one (Utter's forms send "" for a
    blank field). A body naming none of them is refused, as Utter does, and so is an unknown
    field beside known ones, so a typo does not silently change nothing."""

    model_config = ConfigDict(extra="forbid")

    handle: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _some_known_field(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.keys() & cls.model_fields.keys():
            raise PydanticCustomError("no_fields", "No valid fields to update.")
        return data

    @field_validator("handle", "display_name", "avatar_url", mode="before")
    @classmethod
    def _blank_is_null(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

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
