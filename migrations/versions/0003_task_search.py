"""Trigram indexes for the task list's search (case-insensitive substring of title or
description, API.md §5), so ``ILIKE '%term%'`` is an index scan instead of a full scan.

Needs the pg_trgm extension; where it cannot be created the search still works, only slower.

Revision ID: 0003_task_search
Revises: 0005_search
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003_task_search"
# chained after 0005_search so the history keeps a single head
down_revision = "0005_search"
branch_labels = None
depends_on = None

# hand-managed (ix_trgm_ prefix): autogenerate cannot compare operator-class indexes
INDEXES = ("ix_trgm_tasks_title", "ix_trgm_tasks_description")

UPGRADE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not installed: task search will scan';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS ix_trgm_tasks_title
            ON tasks USING gin (title gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS ix_trgm_tasks_description
            ON tasks USING gin (description gin_trgm_ops);
    END IF;
END
$$;
"""


def upgrade():
    op.execute(UPGRADE)


def downgrade():
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
