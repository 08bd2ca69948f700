"""Reading request bodies by hand, after auth: FastAPI would parse them before dependencies."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from vocalis.api.errors import BadRequest, InvalidJSON
from vocalis.errors import describe_validation_errors

T = TypeVar("T", bound=BaseModel)


async def read_json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InvalidJSON() from None
    if not isinstance(data, dict):
        raise InvalidJSON()
    return data


async def read_model(request: Request, model: type[T]) -> T:
    data = await read_json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(describe_validation_errors(exc.errors())) from None
