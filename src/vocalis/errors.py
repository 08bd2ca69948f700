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

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or (type(self).__doc__ or "Error").strip()
        if headers:
            self.headers = headers
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
