"""Chat requests (API.md §10.5)."""

from __future__ import annotations

from cognova.api.validation import ApiModel, Body, Query, Text, Uuid, UuidStr


class ChatBody(Body):
    message: Text(1, 100_000)
    conversation_id: Uuid | None = None


class StreamQuery(Query):
    last_event_id: str | None = None


class Interrupted(ApiModel):
    conversation_id: UuidStr
    interrupted: bool = True
