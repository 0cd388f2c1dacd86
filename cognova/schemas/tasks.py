"""Tasks (API.md §5): request bodies, the list query and the Task object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from cognova.api.validation import (
    ApiModel,
    Body,
    DateTimeIn,
    Page,
    QBool,
    QInt,
    Query,
    Tags,
    Text,
    Timestamp,
    Uuid,
    UuidStr,
    limit_param,
    parse_uuid,
    split_enum_list,
)
from cognova.schemas.projects import ProjectRef

STATUSES = ("todo", "in_progress", "done", "blocked")
SORTS = ("createdAt", "dueDate", "priority", "title")
DEFAULT_ORDER = {"createdAt": "desc", "dueDate": "asc", "priority": "desc", "title": "asc"}

Status = Literal["todo", "in_progress", "done", "blocked"]
# strict int: "high", 2.5 and true are rejected; 0 and 4 fail the bounds
Priority = Annotated[int, Field(ge=1, le=3)]
Title = Text(1, 500)
Description = Annotated[str, StringConstraints(max_length=100_000)] | None


class TaskCreate(Body):
    title: Title
    description: Description = None
    status: Status = "todo"
    priority: Priority = 2
    project_id: Uuid | None = None
    due_date: DateTimeIn | None = None
    tags: Tags = Field(default_factory=list)


class TaskUpdate(Body):
    title: Title = None
    description: Description = None
    status: Status = None
    priority: Priority = None
    project_id: Uuid | None = None
    due_date: DateTimeIn | None = None
    tags: Tags = None


def _statuses(values: list[str]) -> list[str]:
    statuses = split_enum_list(values)
    for value in statuses:
        if value not in STATUSES:
            raise PydanticCustomError("enum", "must be one of: " + ", ".join(STATUSES))
    return list(dict.fromkeys(statuses))


def _project_filter(value: str) -> str:
    if value.strip().lower() == "none":
        return "none"
    return str(parse_uuid(value.strip()))


class TaskQuery(Query):
    status: Annotated[list[str], AfterValidator(_statuses)] = Field(default_factory=list)
    project_id: (
        Annotated[
            str,
            AfterValidator(_project_filter),
            WithJsonSchema({"type": "string", "description": 'a project uuid, or "none"'}),
        ]
        | None
    ) = None
    priority: Annotated[QInt, Field(ge=1, le=3)] | None = None
    tag: list[str] = Field(default_factory=list)
    search: str | None = None
    due_after: DateTimeIn | None = None
    due_before: DateTimeIn | None = None
    include_deleted: QBool = False
    sort: Literal["createdAt", "dueDate", "priority", "title"] = "createdAt"
    order: Literal["asc", "desc"] | None = None
    page: Page = 1
    limit: limit_param(100, 500)


class TaskOneQuery(Query):
    include_deleted: QBool = False


class Creator(ApiModel):
    id: str
    name: str


class TaskOut(ApiModel):
    id: UuidStr
    title: str
    description: str | None
    status: Status
    priority: int
    project_id: UuidStr | None
    project: ProjectRef | None
    due_date: Timestamp | None
    tags: list[str]
    completed_at: Timestamp | None
    created_at: Timestamp
    modified_at: Timestamp | None
    deleted_at: Timestamp | None
    created_by: str | None
    modified_by: str | None
    deleted_by: str | None
    creator: Creator | None
