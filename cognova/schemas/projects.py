"""Projects (API.md §4): what a client may send and what it gets back."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from cognova.api.validation import ApiModel, Body, QBool, Query, Text, Timestamp, UuidStr

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def _color(value: str) -> str:
    if not COLOR_RE.match(value):
        raise PydanticCustomError("color", "must be a colour like #3b82f6")
    return value


Color = Annotated[str, AfterValidator(_color)]
Name = Text(1, 200)
Description = Annotated[str, StringConstraints(max_length=10_000)] | None


class ProjectCreate(Body):
    name: Name
    color: Color
    description: Description = None


class ProjectUpdate(Body):
    name: Name = None
    color: Color = None
    description: Description = None


class ProjectQuery(Query):
    include_deleted: QBool = False
    search: str | None = None


class ProjectOneQuery(Query):
    include_deleted: QBool = False


class ProjectRef(ApiModel):
    id: UuidStr
    name: str
    color: str


class ProjectOut(ApiModel):
    id: UuidStr
    name: str
    color: str
    description: str | None
    task_count: int = Field(default=0)
    created_at: Timestamp
    modified_at: Timestamp | None
    deleted_at: Timestamp | None
    created_by: str | None
    modified_by: str | None
    deleted_by: str | None
