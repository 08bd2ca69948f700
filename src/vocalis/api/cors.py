"""Cross-origin requests (CORS), for the origins in VOCALIS_CORS_ORIGINS and no others.

A pure ASGI middleware rather than Starlette's CORSMiddleware: that one answers preflights with
200 and, for an origin it does not allow, a 400 whose reason a browser never shows. Here a
listed origin's preflight gets 204 and the headers a supabase client needs; any other
origin's preflight gets a 403 whose body names the setting (readable in the network panel);
actual requests from other origins pass untouched, with no CORS headers, so the browser keeps
their answers from the page.

Cross-origin callers authenticate with the Authorization header (bearer token or API key).
Credentials (cookies) are never allowed cross-origin: the media cookie stays a same-site
convenience.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Every method a route answers (tests/api/test_cors.py derives them from the route table).
ALLOW_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What a page with supabase-js sends: apikey and x-client-info come with every request of a
# supabase client, x-supabase-api-version with every GoTrue call (without it, sign-up fails).
ALLOW_HEADERS = (
    "authorization",
    "apikey",
    "content-type",
    "x-client-info",
    "x-supabase-api-version",
)
# What a cross-origin page may read beyond the CORS-safelisted response headers: how long to
# wait after a 429, a download's file name, and the ranges of seekable media.
EXPOSE_HEADERS = ("retry-after", "content-disposition", "content-range", "accept-ranges")
# Browsers cache a preflight for at most this long (Chromium caps it at 7200 s).
MAX_AGE_SECONDS = 3600
ANY = "*"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_origin(raw: str) -> str:
    """`scheme://host[:port]` as browsers serialize it in the Origin header (lowercase,
    default port left out); ValueError for anything that is not an origin."""
    text = raw.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{raw!r} is not an origin") from None
    if (
        parts.scheme.lower() not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(f"{raw!r} is not an origin: write scheme://host[:port], nothing more")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origins(setting: str) -> frozenset[str]:
    """VOCALIS_CORS_ORIGINS: comma-separated origins, or `*` for any origin."""
    items = [item.strip() for item in setting.split(",") if item.strip()]
    return frozenset(ANY if item == ANY else canonical_origin(item) for item in items)


class Cors:
    """Answers preflights and marks answers to allowed origins; see the module docstring."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.any_origin = ANY in self.origins

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # CORS off and not a preflight (the default, and every poll): nothing to read or add.
        if scope["type"] != "http" or (not self.origins and scope["method"] != "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and scope["method"] == "OPTIONS":
            if "access-control-request-method" in headers:
                await self._preflight(origin, send)
                return
        allowed = origin is not None and self.allows(origin)
        if not self.origins:  # CORS is off: answers do not depend on Origin
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                # The answer depends on Origin whatever it is: caches must keep them apart.
                response_headers.add_vary_header("Origin")
                if allowed and origin is not None:
                    response_headers["Access-Control-Allow-Origin"] = origin
                    response_headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSE_HEADERS)
            await send(message)

        await self.app(scope, receive, marked)

    async def _preflight(self, origin: str, send: Send) -> None:
        if self.allows(origin):
            status, body = 204, b""
            headers = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ", ".join(ALLOW_METHODS).encode()),
                (b"access-control-allow-headers", ", ".join(ALLOW_HEADERS).encode()),
                (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
            ]
        else:
            status = 403
            body = json.dumps({"detail": _refusal(origin, bool(self.origins))}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _refusal(origin: str, configured: bool) -> str:
    if not configured:
        return (
            f"Cross-origin requests are not enabled, so {origin} cannot call this API. "
            "List the origins that may in VOCALIS_CORS_ORIGINS."
        )
    return f"The origin {origin} is not allowed: add it to VOCALIS_CORS_ORIGINS."
