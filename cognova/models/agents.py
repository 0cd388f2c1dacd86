"""Scheduled Claude agents and the history of their runs."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cognova.models.base import Base, now_column, user_fk, uuid_pk


class CronAgent(Base):
    __tablename__ = "cron_agents"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str]
    description: Mapped[str | None]
    schedule: Mapped[str]
    prompt: Mapped[str]
    enabled: Mapped[bool] = mapped_column(server_default=sa.true(), default=True)
    max_turns: Mapped[int | None] = mapped_column(server_default=sa.text("50"), default=50)
    max_budget_usd: Mapped[float | None]
    last_run_at: Mapped[datetime | None]
    last_status: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    created_by: Mapped[str | None] = user_fk()


class CronAgentRun(Base):
    __tablename__ = "cron_agent_runs"
    __table_args__ = (
        sa.Index("ix_cron_agent_runs_agent_started", "agent_id", "started_at"),
        sa.Index("ix_cron_agent_runs_started", "started_at"),
        sa.Index(
            "ix_cron_agent_runs_running", "agent_id", postgresql_where=sa.text("status = 'running'")
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cron_agents.id", ondelete="CASCADE"))
    status: Mapped[str]
    output: Mapped[str | None]
    error: Mapped[str | None]
    cost_usd: Mapped[float | None]
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    num_turns: Mapped[int | None]
    started_at: Mapped[datetime] = now_column()
    completed_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
