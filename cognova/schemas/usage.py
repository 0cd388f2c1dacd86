"""Token and cost records and their statistics (API.md §15)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cognova.api.validation import ApiModel, Page, QInt, Query, Timestamp, UuidStr, limit_param

Source = Literal["chat", "agent", "memory_extraction"]
Period = Literal["24h", "7d", "30d"]
Granularity = Literal["daily", "hourly"]


class UsageRecord(ApiModel):
    id: UuidStr
    source: str
    source_id: str | None
    source_name: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    duration_ms: int | None
    num_turns: int | None
    created_at: Timestamp


class UsageListQuery(Query):
    period: Period = "7d"
    source: Source | None = None
    search: Annotated[str, Field(max_length=200)] | None = None
    page: Page = 1
    limit: limit_param(20, 100)


class UsageStatsQuery(Query):
    period: Period = "7d"
    granularity: Granularity = "daily"
    tz_offset: Annotated[QInt, Field(ge=-840, le=840)] = 0


class UsageBucket(ApiModel):
    date: str
    chat: float
    agent: float
    memory: float
    total_cost: float
    input_tokens: int
    output_tokens: int
    calls: int


class SourceTotal(ApiModel):
    source: Source
    cost: float
    calls: int
    tokens: int


class Consumer(ApiModel):
    name: str
    source: Source
    cost: float
    calls: int
    tokens: int


class UsageStats(ApiModel):
    total_cost_usd: float
    total_input_tokens: int
    total_output_tokens: int
    total_calls: int
    avg_cost_per_call: float
    daily_usage: list[UsageBucket]
    by_source: list[SourceTotal]
    top_consumers: list[Consumer]
