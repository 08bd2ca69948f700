"""The bodies errors are rendered in, chosen by path: each client family reads its own shape.

- `/v1/…` (the OpenAI-compatible API): `{"error": {"message", "type", "param", "code"}}`, so
  the openai SDKs raise their usual exceptions with our message.
- `/auth/v1/…` (GoTrue-compatible auth): GoTrue's `{"code": <status>, "error_code", "msg"}`,
  so supabase clients raise their AuthApiError with GoTrue's code; `detail` rides beside it
  for Vocalis's own web app.
- everything else: `{"detail": "<message for a person>"}` (SPEC §3).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from vocalis.api.accounts import WeakPassword
from vocalis.api.errors import InvalidJSON
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

# GoTrue's `error_code` for errors that name none, by status (its own vocabulary:
# internal/api/apierrors/errorcode.go). "unknown" is what GoTrue itself sends when a code
# was never assigned.
_GOTRUE_CODES = {
    400: "validation_failed",
    413: "validation_failed",
    422: "validation_failed",
    429: "over_request_rate_limit",
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


def gotrue_code(request: Request, error: ServiceError) -> str:
    """The error's own code, or the one GoTrue sends for its kind of failure."""
    if error.code:
        return error.code
    if isinstance(error, InvalidJSON):
        return "bad_json"
    if error.status_code == 401:  # GoTrue: no token at all, or one that does not verify
        return "bad_jwt" if request.headers.get("authorization") else "no_authorization"
    if error.status_code >= 500:
        return "unexpected_failure"
    return _GOTRUE_CODES.get(error.status_code, "unknown")


def render_gotrue(request: Request, error: ServiceError) -> Response:
    body: dict[str, Any] = {
        "code": error.status_code,
        "error_code": gotrue_code(request, error),
        "msg": error.detail,
        "detail": error.detail,
    }
    if isinstance(error, WeakPassword):
        body["weak_password"] = {"reasons": list(error.reasons)}
    return JSONResponse(body, error.status_code, headers=error.headers)


def render(request: Request, error: ServiceError) -> Response:
    path = request.url.path
    if path.startswith("/v1/"):
        return render_openai(error)
    if path.startswith("/auth/v1/"):
        return render_gotrue(request, error)
    return render_detail(request, error)
