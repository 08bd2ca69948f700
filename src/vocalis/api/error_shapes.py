"""The bodies errors are rendered in, chosen by path: each client family reads its own shape.

- `/v1/…` (the OpenAI-compatible API): `{"error": {"message", "type", "param", "code"}}`, so
  the openai SDKs raise their usual exceptions with our message.
- everything else: `{"detail": "<message for a person>"}` (SPEC §3).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from vocalis.error_handlers import render_detail
from vocalis.errors import ServiceError

# OpenAI's error `type` by status (what its API answers; the SDKs map statuses to exceptions).
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def render_openai(error: ServiceError) -> Response:
    kind = _OPENAI_TYPES.get(error.status_code, "server_error")
    body = {
        "error": {
            "message": error.detail,
            "type": kind,
            "param": error.param,
            "code": error.code,
        }
    }
    return JSONResponse(body, error.status_code, headers=error.headers)


def render(request: Request, error: ServiceError) -> Response:
    if request.url.path.startswith("/v1/"):
        return render_openai(error)
    return render_detail(request, error)
