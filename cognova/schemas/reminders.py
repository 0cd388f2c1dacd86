"""Reminders (API.md §6): bodies, the list query, snooze and the Reminder object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cognova.api.validation import (
    ApiModel,
    Body,
    DateTimeIn,
    Page,
    Query,
    Text,
    Timestamp,
    Uuid,
    UuidStr,
    limit_param,
)

Message = Text(1, 1000)


class ReminderCreate(Body):
    task_id: Uuid | None = None
    message: Message
    remind_at: DateTimeIn


class ReminderUpdate(Body):
    task_id: Uuid | None = None
    message: Message = None
    remind_at: DateTimeIn = None


class SnoozeBody(Body):
    minutes: Annotated[int, Field(ge=1, le=10080)]


class ReminderQuery(Query):
    task_id: Uuid | None = None
    status: Literal["pending", "sent"] | None = None
    from_: DateTimeIn | None = Field(default=None, alias="from")
    to: DateTimeIn | None = None
    page: Page = 1
    limit: limit_param(100, 500)


class TaskRef(ApiModel):
    id: UuidStr
    title: str


class ReminderOut(ApiModel):
    id: UuidStr
    task_id: UuidStr | None
    task: TaskRef | None
    message: str
    remind_at: Timestamp
    notified: bool
    status: Literal["pending", "sent"]
    created_at: Timestamp


class Deleted(ApiModel):
    id: UuidStr
    deleted: bool = True
