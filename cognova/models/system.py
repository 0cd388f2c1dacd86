"""System tables: secrets, hook events, memory, the token ledger and user settings."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cognova.models.base import Base, now_column, user_fk, uuid_pk


class Secret(Base):
    __tablename__ = "secrets"

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(unique=True)
    encrypted_value: Mapped[str]
    iv: Mapped[str]
    description: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    created_by: Mapped[str | None] = user_fk()


class HookEvent(Base):
    __tablename__ = "hook_events"
    __table_args__ = (
        sa.Index("ix_hook_events_created_at", "created_at"),
        sa.Index("ix_hook_events_session", "session_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_type: Mapped[str]
    session_id: Mapped[str | None]
    project_dir: Mapped[str | None]
    tool_name: Mapped[str | None]
    tool_matcher: Mapped[str | None]
    event_data: Mapped[str | None]
    exit_code: Mapped[int | None]
    blocked: Mapped[bool] = mapped_column(server_default=sa.false(), default=False)
    block_reason: Mapped[str | None]
    duration_ms: Mapped[int | None]
    hook_script: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()


class MemoryChunk(Base):
    __tablename__ = "memory_chunks"
    __table_args__ = (
        sa.Index("ix_memory_chunks_relevance", "relevance_score", "created_at"),
        sa.Index("ix_memory_chunks_project", "project_path"),
        sa.Index("ix_memory_chunks_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[str | None]
    project_path: Mapped[str | None]
    chunk_type: Mapped[str]
    content: Mapped[str]
    source_excerpt: Mapped[str | None]
    relevance_score: Mapped[float] = mapped_column(server_default=sa.text("1.0"), default=1.0)
    access_count: Mapped[int] = mapped_column(server_default=sa.text("0"), default=0)
    last_accessed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = now_column()
    expires_at: Mapped[datetime | None]


class TokenUsage(Base):
    __tablename__ = "token_usage"
    __table_args__ = (
        sa.Index("ix_token_usage_created_at", "created_at"),
        sa.Index("ix_token_usage_source_created", "source", "created_at"),
        sa.Index(
            "ix_token_usage_created_cover",
            "created_at",
            postgresql_include=[
                "id",
                "source",
                "source_name",
                "cost_usd",
                "input_tokens",
                "output_tokens",
            ],
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    source: Mapped[str]
    source_id: Mapped[str | None]
    source_name: Mapped[str | None]
    input_tokens: Mapped[int] = mapped_column(server_default=sa.text("0"), default=0)
    output_tokens: Mapped[int] = mapped_column(server_default=sa.text("0"), default=0)
    cost_usd: Mapped[float] = mapped_column(server_default=sa.text("0"), default=0.0)
    duration_ms: Mapped[int | None]
    num_turns: Mapped[int | None]
    created_at: Mapped[datetime] = now_column()


class UserSettings(Base):
    __tablename__ = "user_settings"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    settings: Mapped[str] = mapped_column(server_default=sa.text("'{}'"), default="{}")
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
