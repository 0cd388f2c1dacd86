"""The declarative base and the column shapes the schema repeats."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NOW = sa.text("now()")


class Base(DeclarativeBase):
    registry = registry(
        type_annotation_map={
            datetime: sa.DateTime(timezone=True),
            str: sa.Text(),
            uuid.UUID: sa.Uuid(),
            float: sa.REAL(),
            int: sa.Integer(),
            bool: sa.Boolean(),
        }
    )


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()")
    )


def now_column() -> Mapped[datetime]:
    return mapped_column(nullable=False, server_default=NOW, default=sa.func.now())


def user_fk(**kwargs) -> Mapped[str | None]:
    return mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True, **kwargs)


def tags_column() -> Mapped[list[str]]:
    return mapped_column(
        ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'::text[]"), default=list
    )


# Expression and trigram indexes (full-text, substring and task search keys) are written by
# hand in the migrations; autogenerate cannot compare them, so it leaves them alone.
HAND_MANAGED_INDEX_PREFIXES = ("ix_fts_", "ix_trgm_", "ix_keys_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name and name.startswith(HAND_MANAGED_INDEX_PREFIXES))
