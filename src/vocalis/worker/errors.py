"""The worker's error tree. The job table raises these; one handler renders `{"detail": ...}`.

A class docstring is the default message.
"""

from __future__ import annotations


class JobError(Exception):
    """The request could not be served."""

    status_code = 400

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or (type(self).__doc__ or "Error").strip()
        self.headers = headers
        super().__init__(self.detail)


class Unauthorized(JobError):
    """Missing or invalid bearer token."""

    status_code = 401


class UnknownJob(JobError):
    """Unknown job."""

    status_code = 404


class NoSuchSegment(JobError):
    """No such segment."""

    status_code = 404


class ResultNotReady(JobError):
    """The job has no result yet."""

    status_code = 409


class ExpiredJob(JobError):
    """The job has expired; its result is no longer kept."""

    status_code = 410


class RequestTooLarge(JobError):
    """The request is too large."""

    status_code = 413


class InvalidJob(JobError):
    """The job request is invalid."""

    status_code = 422


class AtCapacity(JobError):
    """The worker is at capacity; retry later."""

    status_code = 429
