"""The one set of exception handlers both apps install: every error becomes a JSON body."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from vocalis.errors import ServiceError, describe_validation_errors

log = logging.getLogger(__name__)

# (request, status, detail, headers) -> the response; the API renders some paths in the shapes
# their clients expect.
Renderer = Callable[[Request, int, str, dict[str, str] | None], Response]


def render_detail(
    _request: Request, status: int, detail: str, headers: dict[str, str] | None
) -> Response:
    """`{"detail": "<message for a person>"}`."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install_error_handlers(
    app: FastAPI, *, render: Renderer = render_detail, validation_status: int = 400
) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        return render(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return render(request, validation_status, describe_validation_errors(exc.errors()), None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = "Not found." if exc.status_code == 404 else str(exc.detail)
        return render(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return render(request, 500, "Internal server error.", None)
