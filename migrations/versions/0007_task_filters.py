"""Per-status indexes for the task list's combined filters (API.md §5), and an index of the
deleted tasks for reminder firing.

The common list query filters on one status plus a tag and/or a search term. For each status,
two partial multi-column GIN indexes over the live tasks of that status hold the tags and the
trigrams of the title (or of the description): one index scan then intersects the tag with the
search term inside the status, instead of AND-ing three large bitmaps (the status alone matches
up to 40% of the table). They also serve a status with only a tag, or only a search term.

``ix_tasks_deleted`` (declared on the model) holds only the soft-deleted tasks: firing due
reminders excludes those of deleted tasks with an anti-join on it instead of joining every task.

The trigram ones need pg_trgm (migration 0003_task_search); without it nothing is created and the list still
works through the other indexes.

Revision ID: 0007_task_filters
Revises: 0006_memory_search
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_task_filters"
down_revision = "0006_memory_search"
branch_labels = None
depends_on = None

STATUSES = ("todo", "in_progress", "done", "blocked")
COLUMNS = ("title", "description")


def _name(status: str, column: str) -> str:
    # hand-managed (ix_trgm_ prefix): autogenerate cannot compare operator-class indexes
    return f"ix_trgm_tasks_{status}_tags_{column}"


def upgrade():
    op.create_index(
        "ix_tasks_deleted",
        "tasks",
        ["id"],
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
        if_not_exists=True,
    )
    statements = "\n".join(
        f"        CREATE INDEX IF NOT EXISTS {_name(status, column)} ON tasks"
        f" USING gin (tags, {column} gin_trgm_ops)"
        f" WHERE status = '{status}' AND deleted_at IS NULL;"
        for status in STATUSES
        for column in COLUMNS
    )
    op.execute(
        f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
{statements}
    END IF;
END
$$;
"""
    )


def downgrade():
    op.drop_index("ix_tasks_deleted", table_name="tasks", if_exists=True)
    for status in STATUSES:
        for column in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS {_name(status, column)}")
