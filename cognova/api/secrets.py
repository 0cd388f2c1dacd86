"""The encrypted secrets store (API.md §14). Values appear only in ``GET /secrets/<key>``."""

from __future__ import annotations

from flask import g

from cognova.api.spec import ApiBlueprint, ok
from cognova.api.validation import json_body, require_fields, validate
from cognova.extensions import db
from cognova.schemas.secrets import (
    CreateSecretBody,
    SecretDeleted,
    SecretMeta,
    SecretOut,
    UpdateSecretBody,
)
from cognova.services import secrets as secrets_service

bp = ApiBlueprint("secrets", __name__, tag="Secrets")

# A value is at most 64 KiB; even fully \u-escaped JSON of such a value stays under 512 KiB,
# so a body above that is refused before it is read.
MAX_BODY = 512 * 1024


def meta(row) -> dict:
    return SecretMeta.model_validate(row).model_dump(mode="json", by_alias=True)


@bp.endpoint("GET", "/secrets", summary="List secrets (keys only)", response=[SecretMeta])
def list_secrets():
    return ok([meta(row) for row in secrets_service.list_secrets()])


@bp.endpoint(
    "POST",
    "/secrets",
    summary="Store a secret",
    body=CreateSecretBody,
    response=SecretMeta,
    status=201,
    errors=(409,),
    max_body=MAX_BODY,
)
def create_secret(body: CreateSecretBody):
    row = secrets_service.create(body.key, body.value, body.description, g.auth.user.id)
    db.session.commit()
    return ok(meta(row), 201)


@bp.endpoint(
    "GET",
    "/secrets/<key>",
    summary="Reveal one secret",
    response=SecretOut,
    errors=(404, 409),
)
def get_secret(key: str):
    revealed = secrets_service.reveal(key)
    return ok(SecretOut.model_validate(revealed).model_dump(mode="json", by_alias=True))


@bp.endpoint(
    "PUT",
    "/secrets/<key>",
    summary="Change a secret's value or description",
    body=UpdateSecretBody,
    response=SecretMeta,
    errors=(404,),
    max_body=MAX_BODY,
    defer_body=True,
)
def update_secret(key: str):
    raw = json_body()
    secrets_service.check_key(key)  # the path parameter is checked before the fields (§1.9)
    body = validate(UpdateSecretBody, raw)
    row = secrets_service.update(key, require_fields(body))
    db.session.commit()
    return ok(meta(row))


@bp.endpoint(
    "DELETE", "/secrets/<key>", summary="Delete a secret", response=SecretDeleted, errors=(404,)
)
def delete_secret(key: str):
    secrets_service.delete(key)
    db.session.commit()
    return ok({"key": key, "deleted": True})
