"""Claude Code hook analytics (API.md §13): the HookEvent object, ingestion, queries, stats."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from cognova.api.validation import (
    ApiModel,
    Body,
    DateTimeIn,
    QBool,
    Query,
    Timestamp,
    UuidStr,
    limit_param,
    split_enum_list,
)

EVENT_TYPES = (
    "SessionStart",
    "SessionEnd",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "UserPromptSubmit",
)
EventType = Literal[
    "SessionStart",
    "SessionEnd",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "UserPromptSubmit",
]
MAX_EVENT_DATA = 256 * 1024

Short = Annotated[str, StringConstraints(max_length=255)] | None
Long = Annotated[str, StringConstraints(max_length=4096)] | None


class HookEventOut(ApiModel):
    id: UuidStr
    event_type: str
    session_id: str | None
    project_dir: str | None
    tool_name: str | None
    tool_matcher: str | None
    block_reason: str | None
    hook_script: str | None
    event_data: Any = None
    exit_code: int | None
    duration_ms: int | None
    blocked: bool
    created_at: Timestamp


class HookEventIn(Body):
    event_type: EventType
    session_id: Short = None
    tool_name: Short = None
    tool_matcher: Short = None
    project_dir: Long = None
    hook_script: Long = None
    block_reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    event_data: Any = None
    exit_code: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None
    duration_ms: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    blocked: bool = False

    @field_validator("event_data")
    @classmethod
    def _event_data_size(cls, value: Any) -> Any:
        if value is not None and len(serialise_event_data(value).encode()) > MAX_EVENT_DATA:
            raise PydanticCustomError("size", "must serialise to at most 256 KiB")
        return value


def serialise_event_data(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event_types(values: list[str]) -> list[str]:
    types = split_enum_list(values)
    for value in types:
        if value not in EVENT_TYPES:
            raise PydanticCustomError("enum", "must be one of: " + ", ".join(EVENT_TYPES))
    return list(dict.fromkeys(types))


class HookEventQuery(Query):
    event_type: Annotated[list[str], AfterValidator(_event_types)] = Field(default_factory=list)
    session_id: str | None = None
    tool_name: str | None = None
    blocked: QBool | None = None
    since: DateTimeIn | None = None
    until: DateTimeIn | None = None
    limit: limit_param(100, 500)


class StatsQuery(Query):
    period: Literal["24h", "7d", "30d"] = "7d"


class ToolBreakdown(ApiModel):
    tool_name: str
    total: int
    blocked: int
    avg_duration_ms: int


class DailyActivity(ApiModel):
    date: str
    total: int
    blocked: int
    allowed: int
    avg_duration_ms: int


class HookStats(ApiModel):
    total_events: int
    blocked_events: int
    block_rate: int
    avg_duration_ms: int
    events_by_type: dict[str, int]
    tool_breakdown: list[ToolBreakdown]
    daily_activity: list[DailyActivity]
    recent_sessions: list[str]


class ClaudeHookInput(BaseModel):
    """Claude Code's hook input: these keys in every event, and event-specific ones besides."""

    model_config = ConfigDict(extra="allow")

    hook_event_name: str
    session_id: str | None = None
    transcript_path: str | None = None
    cwd: str | None = None
    tool_name: str | None = None


class ClaudeHookOutput(ApiModel):
    """Claude Code's hook output: context for SessionStart, empty otherwise."""

    hook_specific_output: dict[str, Any] | None = None
