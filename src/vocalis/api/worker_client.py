"""Speaks job protocol v1 to a worker over an injected transport (worker_transport.py).

Every call is bounded (Timeouts). Errors are a small tree: each carries `public`, the sentence a
user may read, while `str(error)` keeps what the log needs (the worker's address among it).
Replies are read tolerantly: a field SPEC §5 does not name is optional, and a reply that does
not parse is a MalformedReply, an upstream error like any other."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocalis.api.worker_transport import Body, Reply, Transport, WorkerUnreachable
from vocalis.protocol import Health, JobStatus

log = logging.getLogger(__name__)


class WorkerError(Exception):
    """The worker answered with an error, or not at all (transient)."""

    public = "The synthesis worker reported an error."


class WorkerDown(WorkerError):
    """No answer from the worker within the timeouts (the message says where, for the log)."""

    public = "The synthesis worker is not answering; please try again in a minute."


class MalformedReply(WorkerError):
    """The worker answered something that is not job protocol v1."""

    public = "The synthesis worker sent a reply Vocalis could not read."


class JobUnknown(WorkerError):
    """The worker does not know this job (404) or it expired (410)."""


class ResultNotReady(WorkerError):
    """The result is not ready yet (409)."""


class JobRejected(WorkerError):
    """The worker refused the job (4xx other than 404/409/410/429); its reason is for users."""

    @property
    def public(self) -> str:  # type: ignore[override]
        return f"The synthesis worker refused the job: {self}"


class WorkerBusy(WorkerError):
    """The worker's queue is full (429)."""

    public = "The synthesis worker is busy; please try again in a minute."


@dataclass(frozen=True)
class Timeouts:
    """Seconds; a hanging worker costs a call at most connect + the call's own bound."""

    connect: float = 3.0
    call: float = 5.0  # status, cancel, health, forget
    submit: float = 10.0
    download: float = 60.0  # each wait for more bytes of a result or segment


def _detail(reply: Reply) -> str:
    try:
        detail = json.loads(reply.body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else f"worker answered HTTP {reply.status}"


def _raise_for(reply: Reply) -> None:
    if 200 <= reply.status < 300:
        return
    if reply.status in (404, 410):
        raise JobUnknown(_detail(reply))
    if reply.status == 409:
        raise ResultNotReady(_detail(reply))
    if reply.status == 429:
        raise WorkerBusy(_detail(reply))
    if 400 <= reply.status < 500 and reply.status not in (401, 408):
        raise JobRejected(_detail(reply))
    raise WorkerError(_detail(reply))


async def json_with_inline_bytes(
    fields: Mapping[str, Any], key: str, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """`fields` as a JSON object plus `key`: the base64 of `chunks`, encoded as they stream in,
    so a large reference never becomes one huge string in memory."""
    head = json.dumps(dict(fields))
    yield (head[:-1] + ("," if len(head) > 2 else "") + json.dumps(key) + ':"').encode()
    pending = b""
    async for chunk in chunks:
        pending += chunk
        cut = len(pending) - len(pending) % 3  # whole 3-byte groups: no padding mid-stream
        if cut:
            yield base64.b64encode(pending[:cut])
            pending = pending[cut:]
    yield base64.b64encode(pending) + b'"}'


HEALTH_CACHE_SECONDS = 60.0  # a health answer, or a failure to get one, is reused this long


class WorkerClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        transport: Transport,
        timeouts: Timeouts = Timeouts(),
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._transport = transport
        self._timeouts = timeouts
        self._clock = clock
        self._health: tuple[float, Health | None] | None = None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Body = None,
        dest: Path | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        try:
            return await self._transport.request(
                method,
                self.base_url + path,
                headers or self._headers,
                body,
                dest=dest,
                timeout=timeout or self._timeouts.call,
            )
        except WorkerUnreachable as exc:
            raise WorkerDown(str(exc)) from exc

    async def submit(self, body: Body) -> str:
        headers = {**self._headers, "Content-Type": "application/json"}
        reply = await self._request(
            "POST", "/v1/jobs", body=body, headers=headers, timeout=self._timeouts.submit
        )
        _raise_for(reply)
        try:
            job_id = json.loads(reply.body).get("job_id")
        except (ValueError, AttributeError):
            job_id = None
        if not isinstance(job_id, str) or not job_id:
            raise MalformedReply("the worker accepted the job but returned no job_id")
        return job_id

    async def status(self, job_id: str) -> JobStatus:
        reply = await self._request("GET", f"/v1/jobs/{job_id}")
        _raise_for(reply)
        try:
            return JobStatus.model_validate_json(reply.body)
        except ValueError as exc:
            raise MalformedReply(f"malformed job status: {exc}") from exc

    async def download(self, job_id: str, dest: Path) -> None:
        await self._fetch(f"/v1/jobs/{job_id}/result", dest)

    async def segment(self, job_id: str, index: int, dest: Path) -> None:
        """Stream the `index`-th finished segment (from 0) of a job into `dest` as WAV.

        ResultNotReady (409) while it is not finished yet; JobUnknown for an unknown or expired
        job, or a segment the completed job does not have."""
        await self._fetch(f"/v1/jobs/{job_id}/segments/{index}", dest)

    async def _fetch(self, path: str, dest: Path) -> None:
        reply = await self._request("GET", path, dest=dest, timeout=self._timeouts.download)
        _raise_for(reply)

    async def forget(self, job_id: str) -> None:
        """Have the worker drop a job and its files once the result is stored (idempotent: a
        job the worker no longer knows is already forgotten)."""
        reply = await self._request("DELETE", f"/v1/jobs/{job_id}")
        if reply.status not in (404, 410):
            _raise_for(reply)

    async def cancel(self, job_id: str) -> None:
        _raise_for(await self._request("POST", f"/v1/jobs/{job_id}/cancel"))

    async def health(self) -> Health:
        reply = await self._request("GET", "/v1/health")
        _raise_for(reply)
        try:
            return Health.model_validate_json(reply.body)
        except ValueError as exc:
            raise MalformedReply(f"malformed health: {exc}") from exc

    async def engine_info(self) -> Health | None:
        """The worker's health, or None while it cannot be had. Answers and failures alike are
        reused for a minute, so a hanging worker costs one wait a minute, not one per call."""
        now = self._clock()
        if self._health is None or now - self._health[0] > HEALTH_CACHE_SECONDS:
            try:
                health: Health | None = await self.health()
            except WorkerError as exc:
                log.warning("worker health check failed: %s", exc)
                health = None
            self._health = (self._clock(), health)
        return self._health[1]

    def known_health(self) -> Health | None:
        """The last health answer, without asking (None if none yet or the last ask failed)."""
        return self._health[1] if self._health is not None else None

    async def engine_name(self) -> str | None:
        """The worker's engine (shown by /api/languages)."""
        health = await self.engine_info()
        return health.engine if health else None

    async def close(self) -> None:
        await self._transport.close()
