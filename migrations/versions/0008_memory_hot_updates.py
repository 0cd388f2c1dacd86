"""Memory search stays fast while reads count access (API.md §12.1).

Every search updates ``accessCount``/``lastAccessedAt`` of the rows it returns. Neither column
is indexed, so those updates can be HOT (heap-only: no new index entries) when the page has
room for the new row version. Tables are filled to 100% by default, so most were not: each
added entries to every index of the table, the three GIN indexes included, whose pending lists
grew by thousands of entries between vacuums. A search scans the whole pending list, and the
planner, costing that in, turned the substring half of search into a sequential scan.

* ``memory_chunks`` gets ``fillfactor = 90``: new pages keep room for updated row versions
  (existing full pages gain it as their dead versions are pruned).
* The memory GIN indexes keep their pending lists (bulk writes such as the daily decay stay
  batched) but bounded to 256 kB (``gin_pending_list_limit``, default 4 MB), so a search never
  scans more than a few dozen pending pages; the lists are flushed once here, and the decay
  flushes them after its bulk update.

Revision ID: 0008_memory_hot_updates
Revises: 0007_task_filters
Create Date: 2026-12-03
"""

from alembic import op

revision = "0008_memory_hot_updates"
down_revision = "0007_task_filters"
branch_labels = None
depends_on = None

GIN_INDEXES = ("ix_fts_memory_chunks", "ix_trgm_memory_content", "ix_trgm_memory_excerpt")
PENDING_LIST_KB = 256

# the trigram indexes exist only where pg_trgm could be installed (migration 0006)
FOR_EACH_INDEX = """
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['{names}']
    LOOP
        IF to_regclass(name) IS NOT NULL THEN
            {body}
        END IF;
    END LOOP;
END
$$;
"""


def _for_each_index(body: str) -> str:
    return FOR_EACH_INDEX.format(names="', '".join(GIN_INDEXES), body=body)


def upgrade():
    op.execute("ALTER TABLE memory_chunks SET (fillfactor = 90)")
    op.execute(
        _for_each_index(
            "EXECUTE format('ALTER INDEX %I SET (gin_pending_list_limit = "
            f"{PENDING_LIST_KB})', name);\n"
            "            PERFORM gin_clean_pending_list(to_regclass(name));"
        )
    )


def downgrade():
    op.execute(
        _for_each_index("EXECUTE format('ALTER INDEX %I RESET (gin_pending_list_limit)', name);")
    )
    op.execute("ALTER TABLE memory_chunks RESET (fillfactor)")
