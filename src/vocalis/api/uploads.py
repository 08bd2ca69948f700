"""Size-capped multipart reading and scratch files for uploads, so nothing large sits in memory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect
from starlette.types import Message

from vocalis.api.body import check_text
from vocalis.api.errors import BadRequest, PayloadTooLarge

_FORM_OVERHEAD = 64 * 1024  # room for the text fields and multipart boundaries


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The upload is too large; the limit is {limit // (1024 * 1024)} MB.")


def limited_request(request: Request, limit: int) -> Request:
    """The same request, whose body raises PayloadTooLarge once it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _too_large(limit)
        return message

    return Request(request.scope, receive)


@asynccontextmanager
async def read_form(request: Request, max_file_bytes: int) -> AsyncIterator[FormData]:
    """Parse a multipart form (files spool to disk), closing its files afterwards."""
    limit = max_file_bytes + _FORM_OVERHEAD
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise BadRequest("Send the form as multipart/form-data.")
    try:
        form = await limited_request(request, limit).form(max_files=2, max_fields=20)
    except (MultiPartException, ClientDisconnect, ValueError) as exc:
        raise BadRequest(f"Invalid multipart form: {exc}") from None
    try:
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        if upload is not None and upload.size is not None and upload.size > max_file_bytes:
            raise _too_large(max_file_bytes)
        yield form
    finally:
        await form.close()


def text_field(form: FormData, name: str) -> str | None:
    value: Any = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return check_text(str(value), name)


def file_field(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) else None


@asynccontextmanager
async def scratch_dir(root: Path) -> AsyncIterator[Path]:
    """A private temp folder under the data dir, removed afterwards whatever happens."""
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
    try:
        yield path
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(path, ignore_errors=True))


async def save_upload(upload: UploadFile, dest: Path, max_bytes: int) -> int:
    """Copy a spooled upload to `dest` in chunks; returns its size."""
    size = 0
    with dest.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            out.write(chunk)
    return size
