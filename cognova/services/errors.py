"""Domain failures. Services raise these; the API turns them into the error envelope and
Claude's tools into ``is_error`` results, so each rule is stated once."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(
        self,
        message: str,
        errors: dict[str, str] | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        if status is not None:
            self.status = status


class Invalid(ServiceError):
    """400: validation failed or the state does not allow this (e.g. restoring a live row)."""

    status = 400


def field_error(field: str, message: str) -> Invalid:
    return Invalid("Validation failed", {field: message})


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooLarge(ServiceError):
    status = 413


class Unavailable(ServiceError):
    status = 503
