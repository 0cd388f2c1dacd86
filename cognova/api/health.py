"""Health and the OpenAPI document (API.md §3, §20)."""

from __future__ import annotations

from typing import Literal

from flask import current_app, jsonify

from cognova.api.errors import error_response
from cognova.api.spec import ApiBlueprint, build_openapi, ok
from cognova.api.validation import ApiModel, Timestamp
from cognova.services import health

bp = ApiBlueprint("health", __name__, tag="System")


class HealthOut(ApiModel):
    status: Literal["ok", "degraded", "down"]
    database: bool
    redis: bool
    vault: bool
    version: str
    time: Timestamp


@bp.endpoint(
    "GET",
    "/health",
    summary="Status of the database, Redis and the vault",
    response=HealthOut,
    errors=(503,),
    public=True,
)
def get_health():
    data = HealthOut.model_validate(health.report()).model_dump(mode="json", by_alias=True)
    if not data["database"]:
        return error_response(503, "Database unavailable", extra={"data": data})
    return ok(data)


@bp.endpoint(
    "GET",
    "/openapi.json",
    summary="This OpenAPI document",
    response={"type": "object"},
    envelope="raw",
    public=True,
)
def get_openapi():
    return jsonify(build_openapi(current_app))
