"""Turning a task's stored job request into the body of `POST /v1/jobs`.

The reference travels by signed URL when the worker can fetch it (S3 presigned URLs, or local
storage when `public_url` says where this API is reachable); otherwise inline as base64,
streamed from storage so memory stays flat whatever the reference size.
"""

from __future__ import annotations

import json
from typing import Any

from vocalis.api.config import Settings
from vocalis.api.worker_client import json_with_inline_bytes
from vocalis.api.worker_transport import Body

_WIRE_FIELDS = ("type", "text", "language", "ref_text", "instruct", "options")


async def job_body(job_request: dict[str, Any], storage: Any, settings: Settings) -> Body:
    """The request body: bytes, or a stream of bytes for an inline reference."""
    fields = {k: job_request[k] for k in _WIRE_FIELDS if job_request.get(k) is not None}
    key = job_request.get("ref_object_key")
    if not key:
        return json.dumps(fields).encode()
    url = await storage.signed_url(key, expires_in=settings.signed_url_seconds)
    if url.startswith("/") and settings.public_url:
        url = settings.public_url.rstrip("/") + url
    if url.startswith(("http://", "https://")) and settings.reference_transfer != "inline":
        return json.dumps({**fields, "ref_audio_url": url}).encode()
    return json_with_inline_bytes(fields, "ref_audio_base64", storage.read_stream(key))
