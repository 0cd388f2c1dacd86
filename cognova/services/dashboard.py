"""The dashboard (API.md §19): today's and overdue tasks, counts, and a glance at each area.

Documents, conversations, usage and agents are read here with plain queries on their tables; the
small serializers below produce the objects of API.md §7.2 and §9 until those areas' own
serializers exist to be called instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import defer

from cognova.extensions import db
from cognova.models import (
    Conversation,
    CronAgent,
    CronAgentRun,
    Document,
    Task,
    TokenUsage,
)
from cognova.schemas.dashboard import (
    AgentFailure,
    AgentsSummary,
    ConversationOut,
    DashboardOut,
    DocumentOut,
    TaskCounts,
    UsageSummary,
)
from cognova.schemas.tasks import STATUSES
from cognova.services import documents, reminders, tasks

DUE_LIMIT = 50
RECENT_LIMIT = 5
WEEK = timedelta(days=7)
FAILED_RUN_STATUSES = ("error", "budget_exceeded")


def local_day(now: datetime, tz_offset: int) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local day containing *now* (local = UTC − tzOffset minutes)."""
    offset = timedelta(minutes=tz_offset)
    local = (now - offset).replace(tzinfo=None)
    midnight = datetime(local.year, local.month, local.day)
    start = (midnight + offset).replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


def _open_tasks(*conditions) -> list:
    stmt = (
        tasks.joined()
        .where(Task.deleted_at.is_(None), Task.status != "done", *conditions)
        .order_by(Task.due_date, Task.created_at.desc(), Task.id)
        .limit(DUE_LIMIT)
    )
    return tasks.to_out(stmt)


def task_counts() -> TaskCounts:
    rows = db.session.execute(
        sa.select(Task.status, sa.func.count())
        .where(Task.deleted_at.is_(None))
        .group_by(Task.status)
    )
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in rows:
        counts[status] = counts.get(status, 0) + count
    return TaskCounts(**{s: counts[s] for s in STATUSES}, total=sum(counts.values()))


def recent_documents(limit: int = RECENT_LIMIT) -> list[DocumentOut]:
    content_null = Document.content.is_(None)
    stmt = (
        sa.select(Document, content_null)
        .options(defer(Document.content))
        .where(Document.deleted_at.is_(None))
        .order_by(sa.func.coalesce(Document.modified_at, Document.created_at).desc(), Document.id)
        .limit(limit)
    )
    rows = db.session.execute(stmt).all()
    projects = documents.project_refs({doc.project_id for doc, _ in rows})
    return [
        DocumentOut.model_validate(
            documents.serialize(doc, projects.get(doc.project_id), content_is_null)
        )
        for doc, content_is_null in rows
    ]


def recent_conversations(limit: int = RECENT_LIMIT) -> list[ConversationOut]:
    stmt = sa.select(Conversation).order_by(Conversation.started_at.desc(), Conversation.id)
    return [ConversationOut.model_validate(row) for row in db.session.scalars(stmt.limit(limit))]


def usage(now: datetime) -> UsageSummary:
    row = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.cast(TokenUsage.cost_usd, sa.Double)), 0.0),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(TokenUsage.input_tokens), 0),
            sa.func.coalesce(sa.func.sum(TokenUsage.output_tokens), 0),
        ).where(TokenUsage.created_at >= now - WEEK, TokenUsage.created_at <= now)
    ).one()
    return UsageSummary(
        cost_usd=float(row[0]), calls=row[1], input_tokens=int(row[2]), output_tokens=int(row[3])
    )


def agents(now: datetime) -> AgentsSummary:
    total, active = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(CronAgent.enabled.is_(True)))
    ).one()
    running = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(CronAgentRun.agent_id))).where(
            CronAgentRun.status == "running"
        )
    )
    failures = db.session.execute(
        sa.select(CronAgentRun, CronAgent.name)
        .join(CronAgent, CronAgent.id == CronAgentRun.agent_id)
        .where(
            CronAgentRun.status.in_(FAILED_RUN_STATUSES),
            CronAgentRun.started_at >= now - WEEK,
        )
        .order_by(CronAgentRun.started_at.desc(), CronAgentRun.id)
        .limit(RECENT_LIMIT)
    )
    return AgentsSummary(
        total=total or 0,
        active=active or 0,
        running=running or 0,
        recent_failures=[
            AgentFailure(
                agent_id=run.agent_id,
                agent_name=name,
                run_id=run.id,
                status=run.status,
                error=run.error,
                started_at=run.started_at,
            )
            for run, name in failures
        ],
    )


def summary(tz_offset: int = 0, *, now: datetime | None = None) -> DashboardOut:
    now = now or datetime.now(UTC)
    start, end = local_day(now, tz_offset)
    return DashboardOut(
        tasks_due_today=_open_tasks(Task.due_date >= start, Task.due_date < end),
        overdue_tasks=_open_tasks(Task.due_date < start),
        task_counts=task_counts(),
        recent_documents=recent_documents(),
        recent_conversations=recent_conversations(),
        usage=usage(now),
        agents=agents(now),
        upcoming_reminders=reminders.upcoming(RECENT_LIMIT),
    )
