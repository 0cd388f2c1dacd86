"""Conversations and their messages (API.md §9)."""

from __future__ import annotations

from typing import Any, Literal

from cognova.api.validation import (
    ApiModel,
    Body,
    Page,
    Query,
    Text,
    Timestamp,
    UuidStr,
    limit_param,
)

Status = Literal["idle", "streaming", "interrupted", "error"]


class ConversationQuery(Query):
    search: str | None = None
    status: Status | None = None
    page: Page = 1
    limit: limit_param(50, 200)


class RenameBody(Body):
    title: Text(1, 200)


class ExportQuery(Query):
    format: Literal["markdown", "json"] = "markdown"


class ConversationOut(ApiModel):
    id: UuidStr
    session_id: str
    sdk_session_id: str | None
    title: str | None
    summary: str | None
    status: Status
    total_cost_usd: float
    message_count: int
    started_at: Timestamp
    ended_at: Timestamp | None


class MessageOut(ApiModel):
    id: UuidStr
    conversation_id: UuidStr
    role: Literal["user", "assistant"]
    content: list[dict[str, Any]]
    cost_usd: float | None
    duration_ms: int | None
    created_at: Timestamp


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationDeleted(ApiModel):
    id: UuidStr
    deleted: bool = True
