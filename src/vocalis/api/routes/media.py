"""Signed-URL access to local storage: GET/HEAD with Range (players seek), PUT for uploads.

With S3 storage these routes answer 404: clients use the store's presigned URLs instead.
"""

from __future__ import annotations

import re
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from vocalis.api.deps import SettingsDep, StorageDep
from vocalis.api.errors import AppError, Forbidden, NotFound, PayloadTooLarge
from vocalis.api.storage import ObjectTooLarge, Storage, content_type_for
from vocalis.api.storage_local import LocalStorage

router = APIRouter(prefix="/api/storage", tags=["media"])

_BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(AppError):
    """Requested range not satisfiable."""

    status_code = 416


def _local(storage: Storage) -> LocalStorage:
    if not isinstance(storage, LocalStorage):
        raise NotFound()
    return storage


def _check_signature(
    storage: LocalStorage,
    wanted: str,
    key: str,
    expires: str | None,
    method: str | None,
    sig: str | None,
) -> None:
    # The signature covers the method, so the `method` parameter only has to agree with it.
    if (method is not None and method.upper() != wanted) or not storage.verify_signed(
        wanted, key, expires, sig
    ):
        raise Forbidden()


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) of a single byte range, or None to send everything.

    Malformed and multi-range headers are ignored (RFC 9110 lets a server send the whole
    representation instead); a well-formed range past the end is RangeNotSatisfiable.
    """
    match = _BYTE_RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes ("-0" asks for none: unsatisfiable)
        suffix = int(last)
        start, end = (max(0, size - suffix) if suffix else size), size - 1
    else:
        start = int(first)
        if last and int(last) < start:
            return None
        end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end


@router.api_route("/{key:path}", methods=["GET", "HEAD"])
async def download(
    key: str,
    request: Request,
    stored: StorageDep,
    expires: str | None = None,
    method: str | None = None,
    sig: str | None = None,
) -> Response:
    """Serve a stored object to the holder of a signed URL; Range requests get 206."""
    storage = _local(stored)
    _check_signature(storage, "GET", key, expires, method, sig)
    size = await storage.size(key)
    byte_range = parse_range(request.headers.get("range"), size)
    start, end = byte_range or (0, size - 1)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": content_type_for(key),
        "Content-Length": str(end - start + 1),
        # Cacheable by the browser only, and no longer than the URL is valid.
        "Cache-Control": f"private, max-age={max(0, int(expires or 0) - int(time.time()))}",
        # Stored objects are data: never sniffed into HTML, never given script rights.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(
        storage.read_stream(key, start=start, end=end), status_code=status, headers=headers
    )


@router.put("/{key:path}")
async def upload(
    key: str,
    request: Request,
    stored: StorageDep,
    settings: SettingsDep,
    expires: str | None = None,
    method: str | None = None,
    sig: str | None = None,
) -> dict[str, object]:
    """Receive a direct upload to a signed PUT URL, streamed to storage (size-capped)."""
    storage = _local(stored)
    _check_signature(storage, "PUT", key, expires, method, sig)
    limit = settings.max_upload_bytes
    too_large = f"The upload is too large; the limit is {limit // (1024 * 1024)} MB."
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # refuse before reading a byte
        raise PayloadTooLarge(too_large)
    try:
        size = await storage.put_stream(key, request.stream(), max_bytes=limit)
    except ObjectTooLarge:
        raise PayloadTooLarge(too_large) from None
    return {"key": key, "size": size}
