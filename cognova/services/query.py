"""Query helpers every list shares: the soft-delete filter, pagination and get-or-404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from cognova.extensions import db
from cognova.services.errors import Invalid, NotFound


def live(stmt: sa.Select, model, include_deleted: bool = False) -> sa.Select:
    """Exclude soft-deleted rows unless asked for them (API.md §1.8)."""
    return stmt if include_deleted else stmt.where(model.deleted_at.is_(None))


def get_or_404(model, ident, *, include_deleted: bool = False, message: str | None = None):
    row = db.session.get(model, ident)
    if row is None or (not include_deleted and getattr(row, "deleted_at", None) is not None):
        raise NotFound(message or f"{model.__name__} not found")
    return row


def soft_delete(row, actor: str | None) -> None:
    row.deleted_at = datetime.now(UTC)
    row.deleted_by = actor


def restore(row, actor: str | None) -> None:
    if row.deleted_at is None:
        raise Invalid("Not deleted")
    row.deleted_at = None
    row.deleted_by = None
    row.modified_at = datetime.now(UTC)
    row.modified_by = actor


@dataclass
class Page:
    items: list
    page: int
    limit: int
    total: int


def paginate(stmt: sa.Select, page: int, limit: int) -> Page:
    """Run *stmt* for one page and count all matching rows."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    items = list(db.session.scalars(stmt.limit(limit).offset((page - 1) * limit)))
    return Page(items, page, limit, total or 0)
