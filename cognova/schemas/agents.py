"""Agents and their runs (API.md §11): what a client may send and what it gets back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic_core import PydanticCustomError

from cognova.api.validation import (
    ApiModel,
    Body,
    QBool,
    Query,
    Text,
    Timestamp,
    UuidStr,
    limit_param,
)
from cognova.services.agent_schedule import cron_problem

RUN_STATUSES = ("running", "success", "error", "budget_exceeded", "cancelled")
Period = Literal["24h", "7d", "30d"]


def _cron(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise PydanticCustomError("cron", problem)
    return " ".join(value.split())


Schedule = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200),
    AfterValidator(_cron),
    Field(
        description="5-field cron expression, evaluated in COGNOVA_TIMEZONE",
        examples=["0 9 * * 1-5"],
    ),
]
Name = Text(1, 200)
Description = Annotated[str, StringConstraints(max_length=2000)] | None
Prompt = Text(1, 100_000)
MaxTurns = Annotated[int, Field(ge=1, le=500)]
Budget = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]


class AgentCreate(Body):
    name: Name
    description: Description = None
    schedule: Schedule
    prompt: Prompt
    enabled: bool = True
    max_turns: MaxTurns = 50
    max_budget_usd: Budget | None = None


class AgentUpdate(Body):
    name: Name = None
    description: Description = None
    schedule: Schedule = None
    prompt: Prompt = None
    enabled: bool = None
    max_turns: MaxTurns = None
    max_budget_usd: Budget | None = None


class AgentListQuery(Query):
    enabled: QBool | None = None


class RunQuery(Query):
    force: QBool = False


class RunsQuery(Query):
    limit: limit_param(100, 500)
    period: Period | None = None


class StatsQuery(Query):
    period: Period = "7d"


class PreviewQuery(Query):
    schedule: Schedule
    count: limit_param(5, 20)


class Creator(ApiModel):
    id: str
    name: str


class AgentOut(ApiModel):
    id: UuidStr
    name: str
    description: str | None
    schedule: str
    schedule_description: str
    prompt: str
    enabled: bool
    max_turns: int
    max_budget_usd: float | None
    last_run_at: Timestamp | None
    last_status: Literal["success", "error", "budget_exceeded", "cancelled"] | None
    is_running: bool
    next_run_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    created_by: str | None
    creator: Creator | None


class RunOut(ApiModel):
    id: UuidStr
    agent_id: UuidStr
    status: Literal["running", "success", "error", "budget_exceeded", "cancelled"]
    output: str | None
    error: str | None
    cost_usd: float | None
    input_tokens: int | None
    output_tokens: int | None
    num_turns: int | None
    duration_ms: int | None
    started_at: Timestamp
    completed_at: Timestamp | None


class ToolCall(BaseModel):
    """One tool call of a run, as the agent loop recorded it (kept 30 days)."""

    model_config = {"extra": "allow"}
    name: str | None = None
    input: dict | None = None
    result: str | None = None
    isError: bool | None = None


class RunDetail(RunOut):
    tool_calls: list[ToolCall] = []


class DailyRuns(ApiModel):
    date: str
    success: int
    error: int
    budget_exceeded: int
    cancelled: int
    total: int
    cost_usd: float


class AgentStats(ApiModel):
    total_runs: int
    success_rate: int
    avg_duration_ms: int
    total_cost_usd: float
    last_run_at: Timestamp | None
    daily_runs: list[DailyRuns]


class GlobalAgentStats(ApiModel):
    total_agents: int
    active_agents: int
    runs_in_period: int
    success_rate: int
    total_cost_usd: float
    running_agent_ids: list[str]
    daily_runs: list[DailyRuns]


class SchedulePreview(BaseModel):
    schedule: str
    description: str
    timezone: str
    nextRuns: list[str]


class RunAccepted(BaseModel):
    runId: str


class Cancelled(BaseModel):
    cancelledCount: int


class AgentDeleted(BaseModel):
    id: str
    name: str
    deleted: bool
