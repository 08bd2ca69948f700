"""The API's error tree (on the shared mechanism in vocalis/errors.py). Routes raise these;
the handlers in vocalis/error_handlers.py render `{"detail": ...}`. A class docstring is the
default message.
"""

from __future__ import annotations

from vocalis.errors import ServiceError


class AppError(ServiceError):
    """Something went wrong."""


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
