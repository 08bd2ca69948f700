"""API keys: creating, listing, revoking, and resolving a presented key to its owner."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from vocalis.api.db import Database
from vocalis.api.errors import BadRequest, Conflict, NotFound
from vocalis.api.models import ApiKey, User, new_id

KEY_PREFIX = "vk_"
SHOWN_PREFIX_CHARS = 10  # "vk_" and 7 more: enough to tell a user's keys apart
MAX_KEYS_PER_USER = 25
MAX_NAME = 100


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def key_hash(key: str) -> str:
    """Keys carry 256 random bits, so a plain SHA-256 suffices (no salt or stretching: nobody
    can guess one to test against the hash, and lookups must stay one indexed read)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyOwner:
    user_id: str
    email: str


async def create_key(db: Database, user_id: str, name: object, now: datetime) -> tuple[ApiKey, str]:
    """A new key for the user: its row and the key itself (shown once, never stored)."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Please name the key (for example, the program that will use it).")
    if len(name.strip()) > MAX_NAME:
        raise BadRequest(f"The name cannot exceed {MAX_NAME} characters.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        id=new_id(),
        user_id=user_id,
        name=name.strip(),
        prefix=key[:SHOWN_PREFIX_CHARS],
        key_hash=key_hash(key),
        created_at=now,
    )
    async with db.engine.begin() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id)
        )
        if (count or 0) >= MAX_KEYS_PER_USER:
            raise Conflict(
                f"You have {count} API keys, the most one account can hold. "
                "Revoke one you no longer use first."
            )
        await conn.execute(
            insert(ApiKey).values(
                id=row.id,
                user_id=row.user_id,
                name=row.name,
                prefix=row.prefix,
                key_hash=row.key_hash,
                created_at=row.created_at,
            )
        )
    return row, key


async def list_keys(db: Database, user_id: str) -> list[ApiKey]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
        return list(rows)


async def revoke_key(db: Database, user_id: str, key_id: str) -> str:
    """Delete the user's key; its hash (to drop it from this process's cache). NotFound for a
    key that is not theirs."""
    async with db.engine.begin() as conn:
        hashed = await conn.scalar(
            delete(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.user_id == user_id)
            .returning(ApiKey.key_hash)
        )
    if hashed is None:
        raise NotFound("API key not found.")
    return str(hashed)


async def owner_of(db: Database, key: str, now: datetime) -> KeyOwner | None:
    """The owner of a presented key, recording its use; None for an unknown or revoked key."""
    async with db.autocommit() as conn:
        user_id = await conn.scalar(
            update(ApiKey)
            .where(ApiKey.key_hash == key_hash(key))
            .values(last_used_at=now)
            .returning(ApiKey.user_id)
        )
        if user_id is None:
            return None
        email = await conn.scalar(select(User.email).where(User.id == user_id))
    return KeyOwner(str(user_id), str(email or ""))
