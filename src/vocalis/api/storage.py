"""Object storage: the `Storage` protocol, its errors, key rules, and `create_storage`.

Implementations: `LocalStorage` (a folder; storage_local.py) and `S3Storage` (any
S3-compatible store; storage_s3.py). Both stream: no method holds a whole object in memory.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from vocalis.api.errors import NotFound, PayloadTooLarge

if TYPE_CHECKING:
    from vocalis.api.config import Settings

CHUNK_SIZE = 64 * 1024

_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_MAX_KEY_LENGTH = 512  # the widest object-key column in models.py

_CONTENT_TYPES = {
    # Explicit because the platform's mimetypes table varies (audio/x-wav, audio/x-flac, …)
    # and players are pickier than the standard.
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "webm": "audio/webm",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
}


class InvalidKey(NotFound):
    """Not found."""


class ObjectNotFound(NotFound):
    """The stored file was not found."""


class ObjectTooLarge(PayloadTooLarge):
    """The upload is too large."""


def validate_key(key: str) -> str:
    """The key unchanged, or InvalidKey. Segments are `[A-Za-z0-9_.-]`, never start with a
    dot (so no `.`/`..`, and `.partial/` stays private), and there are no empty segments,
    backslashes or leading slashes: a key can only name a file below the storage root."""
    if not key or len(key) > _MAX_KEY_LENGTH:
        raise InvalidKey()
    if not all(_KEY_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise InvalidKey()
    return key


def content_type_for(key: str) -> str:
    name = key.rpartition("/")[2]
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return _CONTENT_TYPES.get(ext, "application/octet-stream")


class Storage(Protocol):
    """Where reference and generated audio live. Keys are validated by `validate_key`."""

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Store the file at `path` under `key` (replacing any object there)."""
        ...

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> int:
        """Store the streamed bytes; the byte count. Past `max_bytes`, ObjectTooLarge and
        nothing is stored (an existing object under `key` is left as it was)."""
        ...

    async def get_to_file(self, key: str, path: Path) -> None:
        """Write the object to `path`; ObjectNotFound when missing."""
        ...

    def read_stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes `start..end` (inclusive; `end=None` to the last byte), in chunks.
        ObjectNotFound (raised on first iteration) when missing."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int:
        """The object's length in bytes; ObjectNotFound when missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        ...

    async def signed_url(
        self,
        key: str,
        *,
        method: str = "GET",
        expires_in: int | None = None,
        content_type: str | None = None,
    ) -> str:
        """A URL that lets a client without credentials GET (or PUT) this one object until
        it expires. Local storage answers with a path relative to the API."""
        ...


def create_storage(settings: Settings) -> Storage:
    """The storage named by `settings.resolved_storage_url`: file://… or s3://bucket/prefix."""
    url = settings.resolved_storage_url
    parts = urlsplit(url)
    if parts.scheme == "file":
        from vocalis.api.storage_local import LocalStorage

        return LocalStorage(
            Path(unquote(parts.path)),
            settings.jwt_secret_value(),
            default_expires_in=settings.signed_url_seconds,
        )
    if parts.scheme == "s3":
        from vocalis.api.storage_s3 import S3Storage

        if not parts.netloc:
            raise ValueError(f"storage URL needs a bucket: {url!r}")
        return S3Storage(
            parts.netloc,
            parts.path.strip("/"),
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            default_expires_in=settings.signed_url_seconds,
        )
    raise ValueError(f"unsupported storage URL {url!r}: use file://… or s3://bucket/prefix")
