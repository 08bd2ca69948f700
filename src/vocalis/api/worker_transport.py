"""How the worker client reaches a worker: the one-method `Transport` protocol and its two
implementations, aiohttp in production and httpx (over an in-process ASGI app) in tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class WorkerUnreachable(Exception):
    """No answer: connection refused or reset, DNS, or a timeout. The message names the peer;
    it is for the log, never for users."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes


Body = bytes | AsyncIterator[bytes] | None


class Transport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body = None,
        dest: Path | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """Send one request within `timeout` seconds; with `dest`, stream a 2xx body into that
        file (Reply.body empty), `timeout` then bounding each wait for more bytes.
        WorkerUnreachable when no answer came."""

    async def close(self) -> None:
        """Release connections."""


class AiohttpTransport:
    """The production transport: one pooled aiohttp session (~0.3 ms CPU per request here)."""

    def __init__(self, connect_timeout: float = 3.0) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._connect_timeout = connect_timeout
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
            json_serialize=json.dumps,
        )

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body = None,
        dest: Path | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        aiohttp = self._aiohttp
        limits = aiohttp.ClientTimeout(
            total=None if dest else timeout + self._connect_timeout,
            connect=self._connect_timeout,
            sock_read=timeout,
        )
        try:
            async with self._session.request(
                method, url, headers=dict(headers), data=body, timeout=limits
            ) as response:
                if dest is not None and 200 <= response.status < 300:
                    with dest.open("wb") as out:
                        async for chunk in response.content.iter_chunked(256 * 1024):
                            out.write(chunk)
                    return Reply(response.status, b"")
                return Reply(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise WorkerUnreachable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc

    async def close(self) -> None:
        await self._session.close()


class HttpxTransport:
    """Transport over an httpx.AsyncClient, e.g. one wrapping `httpx.ASGITransport(worker_app)`
    so tests run the real worker app in-process."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Body = None,
        dest: Path | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        import httpx

        try:
            request = self._client.build_request(
                method, url, headers=dict(headers), content=body, timeout=timeout
            )
            response = await self._client.send(request, stream=True)
            try:
                if dest is not None and 200 <= response.status_code < 300:
                    with dest.open("wb") as out:
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)
                    return Reply(response.status_code, b"")
                return Reply(response.status_code, await response.aread())
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise WorkerUnreachable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc

    async def close(self) -> None:
        await self._client.aclose()
