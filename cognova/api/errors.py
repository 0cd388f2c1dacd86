"""The error envelope of API.md, produced in one place for every failure under ``/api``."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from cognova.services.errors import ServiceError

log = logging.getLogger(__name__)


class ApiError(ServiceError):
    """A failure the client should see with this status, message and per-field errors."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message, errors, status=status, headers=headers)


def bad_request(message: str = "Validation failed", errors: dict | None = None) -> ApiError:
    return ApiError(400, message, errors)


def not_found(message: str = "Not found") -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str, errors: dict | None = None) -> dict:
    body = {"statusCode": status, "statusMessage": reason(status), "message": message}
    if errors:
        body["errors"] = errors
    return body


def error_response(
    status: int,
    message: str,
    errors: dict | None = None,
    headers: dict | None = None,
    extra: dict | None = None,
) -> Response:
    body = error_body(status, message, errors)
    if extra:
        body.update(extra)
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


def _page_error(status: int, message: str) -> Response:
    html = render_template(
        "errors/error.html", status=status, title=reason(status), message=message
    )
    return Response(html, status=status, mimetype="text/html")


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def handle_service_error(exc: ServiceError):
        if not wants_json():
            return _page_error(exc.status, exc.message)
        return error_response(exc.status, exc.message, exc.errors, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        message = _HTTP_MESSAGES.get(status) or exc.description or reason(status)
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        if not wants_json():
            response = _page_error(status, message)
            response.headers.update(headers)
            return response
        return error_response(status, message, headers=headers)

    @app.errorhandler(OperationalError)
    def handle_database_down(exc: DBAPIError):
        log.error("database unavailable: %s", exc.__class__.__name__)
        if not wants_json():
            return _page_error(503, "The database is unavailable. Try again in a moment.")
        return error_response(503, "Database unavailable")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if current_app.config.get("PROPAGATE_UNEXPECTED"):
            raise exc
        if not wants_json():
            return _page_error(500, "Something went wrong on our side.")
        return error_response(500, "Internal server error")
