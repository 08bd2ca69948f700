"""The GoTrue-compatible auth bodies and answers (/auth/v1, SPEC.md §4): what supabase clients
send and read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
