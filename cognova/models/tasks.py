"""Projects, tasks and the reminders attached to tasks."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cognova.models.base import Base, now_column, tags_column, user_fk, uuid_pk


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str]
    color: Mapped[str]
    description: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()
    modified_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = user_fk()
    modified_by: Mapped[str | None] = user_fk()
    deleted_by: Mapped[str | None] = user_fk()


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_tags", "tags", postgresql_using="gin"),
        sa.Index("ix_tasks_project_id", "project_id"),
        sa.Index(
            "ix_tasks_live_created", "created_at", postgresql_where=sa.text("deleted_at IS NULL")
        ),
        sa.Index("ix_tasks_live_due", "due_date", postgresql_where=sa.text("deleted_at IS NULL")),
        # the few deleted tasks: reminder firing skips theirs without reading every task
        sa.Index("ix_tasks_deleted", "id", postgresql_where=sa.text("deleted_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str]
    description: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default=sa.text("'todo'"), default="todo")
    priority: Mapped[int] = mapped_column(server_default=sa.text("2"), default=2)
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="SET NULL")
    )
    due_date: Mapped[datetime | None]
    tags: Mapped[list[str]] = tags_column()
    created_at: Mapped[datetime] = now_column()
    modified_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = user_fk()
    modified_by: Mapped[str | None] = user_fk()
    deleted_by: Mapped[str | None] = user_fk()

    project: Mapped[Project | None] = relationship(lazy="raise")


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (
        sa.Index("ix_reminders_pending", "remind_at", postgresql_where=sa.text("NOT notified")),
        sa.Index("ix_reminders_task_id", "task_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    task_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    message: Mapped[str]
    remind_at: Mapped[datetime]
    notified: Mapped[bool] = mapped_column(server_default=sa.false(), default=False)
    created_at: Mapped[datetime] = now_column()

    task: Mapped[Task | None] = relationship(lazy="raise")
