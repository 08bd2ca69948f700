"""The worker's error tree (on the shared mechanism in vocalis/errors.py). The job table raises
these; the handlers in vocalis/error_handlers.py render `{"detail": ...}`. A class docstring is
the default message.
"""

from __future__ import annotations

from vocalis.errors import ServiceError


class JobError(ServiceError):
    """The request could not be served."""

    status_code = 400


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
