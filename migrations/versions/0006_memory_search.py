"""Memory search and de-duplication indexes (no new columns).

* ``ix_fts_memory_chunks``: GIN over the full-text document of a memory; the expression must
  stay identical to ``FTS_DOCUMENT`` in cognova/services/memory.py (and the memory source of
  cognova/services/search.py) or the planner will not use it.
* ``ix_fts_memory_normalised``: btree over the md5 of the normalised content (the duplicate
  rule of API.md §12), so a store finds its duplicate without scanning. md5 keeps the key
  small: content may be 2,000 characters, over btree's entry limit.
* ``ix_trgm_memory_*``: trigram indexes for the substring half of search; they need pg_trgm,
  and where it cannot be created search still works, only slower.

The ix_fts_/ix_trgm_ prefixes mark them as hand-managed for autogenerate.

Revision ID: 0006_memory_search
Revises: 0004_usage
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006_memory_search"
down_revision = "0004_usage"
branch_labels = None
depends_on = None

INDEXES = [
    (
        "ix_fts_memory_chunks",
        "USING gin ((to_tsvector('english'::regconfig, content || ' ' "
        "|| coalesce(source_excerpt, ''))))",
    ),
    (
        "ix_fts_memory_normalised",
        "(md5(lower(btrim(regexp_replace(content, '\\s+', ' ', 'g')))))",
    ),
]

TRIGRAM = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not installed: memory substring search will scan';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS ix_trgm_memory_content
            ON memory_chunks USING gin (content gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS ix_trgm_memory_excerpt
            ON memory_chunks USING gin (source_excerpt gin_trgm_ops);
    END IF;
END
$$;
"""


def upgrade():
    for name, definition in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON memory_chunks {definition}")
    op.execute(TRIGRAM)


def downgrade():
    for name in ("ix_trgm_memory_excerpt", "ix_trgm_memory_content"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, _definition in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
