"""Metadata and cached text of the files in the vault."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cognova.models.base import Base, now_column, tags_column, user_fk, uuid_pk
from cognova.models.tasks import Project


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        sa.Index("ix_documents_tags", "tags", postgresql_using="gin"),
        sa.Index("ix_documents_content_hash", "content_hash"),
        sa.Index("ix_documents_project_id", "project_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str]
    path: Mapped[str] = mapped_column(unique=True)
    content: Mapped[str | None]
    content_hash: Mapped[str | None]
    tags: Mapped[list[str]] = tags_column()
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="SET NULL")
    )
    shared: Mapped[bool] = mapped_column(server_default=sa.false(), default=False)
    share_type: Mapped[str | None]
    file_type: Mapped[str]
    mime_type: Mapped[str | None]
    synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = now_column()
    created_by: Mapped[str | None] = user_fk()
    modified_at: Mapped[datetime | None]
    modified_by: Mapped[str | None] = user_fk()
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[str | None] = user_fk()

    project: Mapped[Project | None] = relationship(lazy="raise")
