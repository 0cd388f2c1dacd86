"""Request and response models of the secrets store (API.md §14)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from cognova.api.validation import ApiModel, Body, Timestamp, UuidStr

KEY_PATTERN = r"^[A-Z][A-Z0-9_]*$"
MAX_VALUE_BYTES = 65_536


def _value_size(value: str) -> str:
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise ValueError(f"must be at most {MAX_VALUE_BYTES} bytes")
    return value


SecretKey = Annotated[str, StringConstraints(max_length=255, pattern=KEY_PATTERN)]
SecretValue = Annotated[str, StringConstraints(min_length=1), AfterValidator(_value_size)]
Description = Annotated[str, StringConstraints(max_length=1000)] | None


class SecretMeta(ApiModel):
    id: UuidStr
    key: str
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp
    created_by: str | None


class SecretOut(ApiModel):
    key: str
    value: str
    description: str | None
    updated_at: Timestamp


class SecretDeleted(ApiModel):
    key: str
    deleted: bool


class CreateSecretBody(Body):
    key: SecretKey
    value: SecretValue
    description: Description = None


class UpdateSecretBody(Body):
    value: SecretValue = None
    description: Description = None
