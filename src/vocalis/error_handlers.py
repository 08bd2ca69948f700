"""The one set of exception handlers both apps install: every error becomes a JSON body."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from vocalis.errors import ServiceError, describe_validation_errors, field_of

log = logging.getLogger(__name__)

# (request, error) -> the response. Every failure reaches the renderer as a ServiceError, so one
# function decides the body's shape; the API picks shapes by path (error_shapes.py).
Renderer = Callable[[Request, ServiceError], Response]


def render_detail(_request: Request, error: ServiceError) -> Response:
    """`{"detail": "<message for a person>"}`."""
    return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)


def install_error_handlers(
    app: FastAPI, *, render: Renderer = render_detail, validation_status: int = 400
) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        param = field_of(errors)
        detail = describe_validation_errors(errors)
        return render(request, ServiceError(detail, status_code=validation_status, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = "Not found." if exc.status_code == 404 else str(exc.detail)
        headers = getattr(exc, "headers", None)
        return render(request, ServiceError(detail, status_code=exc.status_code, headers=headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return render(request, ServiceError("Internal server error.", status_code=500))
