"""Chat conversations and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cognova.models.base import Base, now_column, uuid_pk


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (sa.Index("ix_conversations_started_at", "started_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[str] = mapped_column(unique=True)
    sdk_session_id: Mapped[str | None]
    title: Mapped[str | None]
    summary: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default=sa.text("'idle'"), default="idle")
    total_cost_usd: Mapped[float] = mapped_column(server_default=sa.text("0"), default=0.0)
    started_at: Mapped[datetime] = now_column()
    ended_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(server_default=sa.text("0"), default=0)


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        sa.Index("ix_conversation_messages_conversation", "conversation_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str]
    content: Mapped[str]
    cost_usd: Mapped[float | None]
    duration_ms: Mapped[int | None]
    created_at: Mapped[datetime] = now_column()
