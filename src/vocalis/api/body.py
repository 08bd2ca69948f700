"""Reading request bodies by hand, after auth (FastAPI would parse them before dependencies),
and refusing what a database or a person should never receive.

Sizes are capped by BodyLimit (middleware.py) before anything is read. Here: invalid JSON or
UTF-8, nesting deeper than MAX_DEPTH, and strings holding NUL or lone UTF-16 surrogates are a
400 that names the field (PostgreSQL refuses NUL in text; neither database can store a lone
surrogate).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from vocalis.api.errors import BadRequest, InvalidJSON
from vocalis.errors import describe_validation_errors

T = TypeVar("T", bound=BaseModel)

MAX_DEPTH = 32  # our bodies are two levels deep; this is only a bound
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_text(value: str, field: str) -> str:
    """`value`, or a 400 naming `field` when it holds NUL or a lone surrogate."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "an invalid character"
        raise BadRequest(f"{field}: contains {what}.")
    return value


def check_json(data: Any) -> Any:
    """Walk parsed JSON without recursion: depth bound, and every key and string checked."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"The JSON is nested too deeply (more than {MAX_DEPTH} levels).")
        if isinstance(value, str):
            check_text(value, path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(key, f"{path}.{key}" if path else "a field name")
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return data


async def read_json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InvalidJSON() from None
    except RecursionError:
        raise BadRequest(f"The JSON is nested too deeply (more than {MAX_DEPTH} levels).") from None
    if not isinstance(data, dict):
        raise InvalidJSON()
    checked: dict[str, Any] = check_json(data)
    return checked


async def read_model(request: Request, model: type[T]) -> T:
    data = await read_json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(describe_validation_errors(exc.errors())) from None
