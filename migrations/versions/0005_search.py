"""Full-text search: expression GIN indexes (no new columns) and a trigram index on titles.

The expressions must match cognova/services/search.py character for character in meaning, or
the planner will not use them. The trigram index (substring matches on titles) needs the
pg_trgm extension; where it cannot be created the search still works, only slower.

Revision ID: 0005_search
Revises: 0002_indexes
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005_search"
down_revision = "0002_indexes"
branch_labels = None
depends_on = None

FTS_INDEXES = [
    (
        "ix_fts_documents",
        "documents",
        "to_tsvector('english'::regconfig, title || ' ' || path || ' ' || "
        "left(coalesce(content, ''), 250000))",
        "WHERE deleted_at IS NULL",
    ),
    (
        "ix_fts_tasks",
        "tasks",
        "to_tsvector('english'::regconfig, title || ' ' || coalesce(description, ''))",
        "",
    ),
]

TRIGRAM = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not installed: title substring search will scan';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS ix_trgm_documents_title
            ON documents USING gin (title gin_trgm_ops) WHERE deleted_at IS NULL;
    END IF;
END
$$;
"""


def upgrade():
    for name, table, expression, where in FTS_INDEXES:
        op.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin (({expression})) {where}'
        )
    op.execute(TRIGRAM)


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_trgm_documents_title")
    for name, _table, _expression, _where in FTS_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
