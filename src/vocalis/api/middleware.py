"""ASGI middleware: request body size caps and the security headers every response carries."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vocalis.api.errors import PayloadTooLarge

# Bodies with their own, larger caps, enforced where they are read (uploads.py, media.py).
_OWN_CAPS = ("multipart/form-data",)
_OWN_CAP_PATHS = ("/api/storage/",)

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),  # no clickjacking: the studio is never framed
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class BodyLimit:
    """Any other body over `max_bytes` is refused with 413 before more of it is read: a
    declared Content-Length at once, a chunked body as soon as it passes the cap. Raised from
    `receive`, so the app's error handlers render it like any other error."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # GET and HEAD bodies are never read, so they cost nothing to let through (and the
        # poll, a GET, is the hot path).
        if scope["type"] != "http" or scope["method"] in _BODILESS or _has_own_cap(scope):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = _header(scope, b"content-length")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
            return message

        await self.app(scope, limited, send)


class SecurityHeaders:
    """X-Frame-Options, X-Content-Type-Options and Referrer-Policy on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


_BODILESS = frozenset({"GET", "HEAD"})


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is too large; the limit is {limit // 1024} KiB. Send audio as a "
        "multipart upload or to a signed upload URL."
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _has_own_cap(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type") or ""
    path = str(scope.get("path", ""))
    return content_type.startswith(_OWN_CAPS) or path.startswith(_OWN_CAP_PATHS)
