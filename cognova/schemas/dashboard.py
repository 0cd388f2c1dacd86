"""The dashboard (API.md §19): one object summarising every area."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from cognova.api.validation import ApiModel, QInt, Query, Timestamp, UuidStr
from cognova.schemas.conversations import ConversationOut
from cognova.schemas.documents import DocumentOut
from cognova.schemas.reminders import ReminderOut
from cognova.schemas.tasks import TaskOut


class DashboardQuery(Query):
    # JavaScript getTimezoneOffset convention: local = UTC - tzOffset minutes
    tz_offset: Annotated[QInt, Field(ge=-840, le=840)] = 0


class TaskCounts(ApiModel):
    # keys are the status values themselves, so no camelCase here
    model_config = ConfigDict(alias_generator=None)

    todo: int = 0
    in_progress: int = 0
    done: int = 0
    blocked: int = 0
    total: int = 0


class UsageSummary(ApiModel):
    period: Literal["7d"] = "7d"
    cost_usd: float
    calls: int
    input_tokens: int
    output_tokens: int


class AgentFailure(ApiModel):
    agent_id: UuidStr
    agent_name: str
    run_id: UuidStr
    status: str
    error: str | None
    started_at: Timestamp


class AgentsSummary(ApiModel):
    total: int
    active: int
    running: int
    recent_failures: list[AgentFailure]


class DashboardOut(ApiModel):
    tasks_due_today: list[TaskOut]
    overdue_tasks: list[TaskOut]
    task_counts: TaskCounts
    recent_documents: list[DocumentOut]
    recent_conversations: list[ConversationOut]
    usage: UsageSummary
    agents: AgentsSummary
    upcoming_reminders: list[ReminderOut]
