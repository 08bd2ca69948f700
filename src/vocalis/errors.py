"""The error mechanism the API and the worker share. I/O-free: no framework in here.

Each part subclasses `ServiceError` into a small named tree (api/errors.py, worker/errors.py);
a class docstring is the default message, `status_code` the HTTP status. Code raises them; one
set of handlers (error_handlers.py) renders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ServiceError(Exception):
    """Something went wrong."""

    status_code = 500
    headers: dict[str, str] | None = None
    # For clients that want a machine-readable reason beside the sentence: GoTrue's
    # `error_code`, OpenAI's `code`; and the request field at fault (OpenAI's `param`).
    code: str | None = None
    param: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        param: str | None = None,
        status_code: int | None = None,
    ):
        self.detail = detail or (type(self).__doc__ or "Error").strip()
        if headers:
            self.headers = headers
        if code:
            self.code = code
        if param:
            self.param = param
        if status_code:
            self.status_code = status_code
        super().__init__(self.detail)


def describe_validation_errors(errors: Sequence[Mapping[str, Any]] | object) -> str:
    """One sentence for a person from pydantic's error list."""
    if not isinstance(errors, list | tuple) or not errors:
        return "Invalid request."
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "Invalid JSON body"
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc)
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def field_of(errors: Sequence[Mapping[str, Any]] | object) -> str | None:
    """The field the first validation error is about, if any (OpenAI's `param`)."""
    if not isinstance(errors, list | tuple) or not errors:
        return None
    loc = [str(p) for p in errors[0].get("loc", ()) if p not in ("body", "query", "path")]
    return ".".join(loc) or None
