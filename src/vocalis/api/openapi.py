"""The OpenAPI document as the contract: request bodies the routes parse by hand (after auth)
are declared here, FastAPI's blanket 422 gives way to the statuses the API really answers, and a
bearer scheme (a session JWT or an API key) gives /api/docs its Authorize button."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

_BODIES: set[type[BaseModel]] = set()

_DESCRIPTIONS = {
    400: "Bad input: the detail says which field and why",
    401: "No, or an invalid, session token or API key",
    403: "This credential cannot do that",
    404: "Missing, or not yours",
    409: "Conflict (for example the active-task limit)",
    413: "Too large (body, upload or storage quota)",
    422: "GoTrue's answer for a weak password or an existing account",
    429: "Rate limited: see Retry-After",
    502: "The synthesis worker failed",
    503: "The synthesis worker is not answering",
    504: "Still rendering: the detail names the task to poll",
}


def json_body(*models: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body itself (after auth): one of `models`."""
    _BODIES.update(models)
    refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in models]
    schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def form_body(fields: dict[str, str], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` for a multipart form; `fields` maps names to descriptions, and a field
    named `audio` is a file."""
    properties = {
        name: {"type": "string", "format": "binary", "description": text}
        if name == "audio"
        else {"type": "string", "description": text}
        for name, text in fields.items()
    }
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


def errors(*codes: int, model: type[BaseModel] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the error statuses a route answers, in the body its clients read."""
    from vocalis.api.schemas import ErrorOut

    body = model or ErrorOut
    return {code: {"model": body, "description": _DESCRIPTIONS[code]} for code in codes}


def install_openapi(app: FastAPI) -> None:
    from vocalis.api.deps import current_user

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        from vocalis.api.schemas import TranscriptionBody

        for model in _BODIES | {TranscriptionBody}:
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(found.pop("$defs", {}))
            schemas[model.__name__] = found
        components["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A session's access token (JWT), or an API key `vk_…`.",
            }
        }
        protected = _protected_operations(current_user)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                operation.get("responses", {}).pop("422", None)  # we answer 400, never 422
                if (method.upper(), path) in protected:
                    operation["security"] = [{"bearer": []}]
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


def _protected_operations(current_user: Any) -> set[tuple[str, str]]:
    """(method, path) of every route whose dependencies include `current_user`."""
    from vocalis.api.routes import routers

    found = set()
    for router in routers(web=False):
        for route in router.routes:
            if isinstance(route, APIRoute) and current_user in _calls(route.dependant):
                found |= {(method, route.path_format) for method in route.methods or ()}
    return found


def _calls(dependant: Dependant) -> set[Any]:
    calls, stack = set(), list(dependant.dependencies)
    while stack:
        sub = stack.pop()
        calls.add(sub.call)
        stack.extend(sub.dependencies)
    return calls
