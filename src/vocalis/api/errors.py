"""The error tree. Routes raise these; one handler renders `{"detail": ...}`.

A class docstring is the default message.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """Something went wrong."""

    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or (type(self).__doc__ or "Error").strip()
        if headers:
            self.headers = headers
        super().__init__(self.detail)


class BadRequest(AppError):
    """Bad request."""

    status_code = 400


class InvalidJSON(BadRequest):
    """Invalid JSON body"""


class Unauthorized(AppError):
    """Not authenticated."""

    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    """Invalid or expired signature."""

    status_code = 403


class NotFound(AppError):
    """Not found."""

    status_code = 404


class Conflict(AppError):
    """Conflict."""

    status_code = 409


class PayloadTooLarge(AppError):
    """The upload is too large."""

    status_code = 413


class RateLimited(AppError):
    """Too many requests."""

    status_code = 429


class UpstreamError(AppError):
    """The synthesis worker could not be reached."""

    status_code = 502


class Unavailable(AppError):
    """Service unavailable."""

    status_code = 503


def _render(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return _render(exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _render(400, describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if exc.status_code != 404 else "Not found."
        return _render(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _render(500, "Internal server error.")


def describe_validation_errors(errors: object) -> str:
    """One sentence for a person from pydantic's error list."""
    if not isinstance(errors, list | tuple) or not errors:
        return "Invalid request."
    first = errors[0]
    if first.get("type") == "json_invalid":
        return InvalidJSON.__doc__ or "Invalid JSON body"
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc)
    message = str(first.get("msg", "is invalid"))
    return f"{field}: {message}" if field else message
