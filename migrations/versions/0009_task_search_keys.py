"""One index for the task list's most selective question: a status, a tag and a search term.

With all three, the per-status trigram indexes of migration 0007 intersect the posting list of
the tag with those of the term's trigrams inside the status. Both are long (a tag is on a few
percent of the tasks, a trigram such as ``pha`` on a tenth of the titles), and reading them was
most of the list's time in the database.

``ix_keys_tasks_search`` holds, for every live task with tags, one key per tag and one per
(tag, trigram) pair, each prefixed with the task's status: ``todo|work|`` and
``todo|work|rep`` for a ``todo`` task tagged ``work`` titled "Report". The trigrams are the
three-character pieces of the lowercase alphanumeric runs of the title and the description.
The keys of a query (``cognova_task_query_keys``) are those of its status, tags and term; a task
whose title or description contains the term holds all of them, because each of the term's
trigrams lies, lowercased, inside one alphanumeric run of that title or description. So the
index returns a superset of the matches, with short posting lists (one tag's tasks of one status
holding one trigram), and the exact conditions (the tag containment and the ILIKE) are checked
on those rows only. A term with no alphanumeric run of three characters asks for the tag keys
alone. Keys that happen to collide (a tag containing ``|``) only add candidates, never lose one.
Bounds keep a task's keys few and cheap to compute, and a question's keys few (the ``MAX_``
constants below); none of them can lose a match.

``cognova_task_candidates(statuses, tags, term)`` returns those candidates, one index scan per
status. It is a function so that the list's statement sees a fixed estimate of its rows (100)
and keeps one generic plan for any values; and its own query always runs the generic plan (the
index scan), which it plans once per session. Left to itself, PostgreSQL's plan cache would
weigh a generic plan costed with default selectivities against custom ones, and re-plan every
execution of some of the list's statements (about a third of a millisecond each).

The functions are written in PL/pgSQL so their queries are planned once per session, and call
each other schema-qualified so a restore (which runs with an empty search_path) can rebuild the
index. Hand-managed (``ix_keys_`` prefix): autogenerate cannot compare expression indexes.

Revision ID: 0009_task_search_keys
Revises: 0008_memory_hot_updates
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_task_search_keys"
down_revision = "0008_memory_hot_updates"
branch_labels = None
depends_on = None

INDEX = "ix_keys_tasks_search"
PENDING_LIST_KB = 256

# A task is indexed by one "long" key per tag instead (``todo|work|*``; no trigram holds ``*``)
# when its text is longer than MAX_TEXT characters, holds an alphanumeric run longer than
# MAX_RUN (a pasted hash or blob), or would make more than MAX_PAIR_KEYS (tag, trigram) keys.
# Such tasks are candidates of every question with their status and tag, and the exact filters
# decide; this bounds both a task's index entries and the work of computing them.
MAX_TEXT = 4096
MAX_RUN = 64
MAX_PAIR_KEYS = 2048
# A question asks for the trigrams of at most the first MAX_QUERY_TEXT characters of its term,
# and at most MAX_QUERY_GRAMS of them: any subset of its keys still finds every match.
MAX_QUERY_TEXT = 64
MAX_QUERY_GRAMS = 16

FUNCTIONS = """
CREATE OR REPLACE FUNCTION {schema}.cognova_task_grams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    runs text[] := regexp_split_to_array(lower(value), '[^[:alnum:]]+');
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(runs) AS run WHERE length(run) > {max_run}) THEN
        RETURN NULL;
    END IF;
    RETURN (
        SELECT coalesce(array_agg(DISTINCT substr(run, i, 3)), '{{}}')
        FROM unnest(runs) AS run, generate_series(1, length(run) - 2) AS i
    );
END
$$;

CREATE OR REPLACE FUNCTION {schema}.cognova_task_keys(
    status text, tags text[], title text, description text
) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    body text := title || ' ' || coalesce(description, '');
    tag_keys text[];
    grams text[];
BEGIN
    IF coalesce(cardinality(tags), 0) = 0 THEN
        RETURN '{{}}';
    END IF;
    tag_keys := ARRAY(SELECT status || '|' || tag || '|' FROM unnest(tags) AS tag);
    IF length(body) <= {max_text} THEN
        grams := {schema}.cognova_task_grams(body);
        IF grams IS NOT NULL AND cardinality(grams) * cardinality(tags) <= {max_pair_keys} THEN
            RETURN tag_keys || ARRAY(SELECT status || '|' || tag || '|' || gram
                                     FROM unnest(tags) AS tag, unnest(grams) AS gram);
        END IF;
    END IF;
    RETURN tag_keys || ARRAY(SELECT status || '|' || tag || '|*' FROM unnest(tags) AS tag);
END
$$;

CREATE OR REPLACE FUNCTION {schema}.cognova_task_query_keys(
    status text, tags text[], term text
) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    grams text[] :=
        ({schema}.cognova_task_grams(left(term, {max_query_text})))[1:{max_query_grams}];
BEGIN
    IF cardinality(grams) = 0 THEN
        RETURN ARRAY(SELECT status || '|' || tag || '|' FROM unnest(tags) AS tag);
    END IF;
    RETURN ARRAY(SELECT status || '|' || tag || '|' || gram
                 FROM unnest(tags) AS tag, unnest(grams) AS gram);
END
$$;

CREATE OR REPLACE FUNCTION {schema}.cognova_task_candidates(
    statuses text[], wanted_tags text[], term text
) RETURNS SETOF {schema}.tasks
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100
SET plan_cache_mode = force_generic_plan
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    wanted text;
    asked text[];
    long_keys text[];
BEGIN
    FOREACH wanted IN ARRAY statuses
    LOOP
        asked := {schema}.cognova_task_query_keys(wanted, wanted_tags, term);
        long_keys := ARRAY(SELECT wanted || '|' || tag || '|*' FROM unnest(wanted_tags) AS tag);
        RETURN QUERY
            SELECT * FROM {schema}.tasks AS t
            WHERE t.deleted_at IS NULL
              AND ({schema}.cognova_task_keys(t.status, t.tags, t.title, t.description) @> asked
                   OR {schema}.cognova_task_keys(t.status, t.tags, t.title, t.description)
                      @> long_keys);
    END LOOP;
END
$$;
"""


def upgrade():
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    op.execute(
        FUNCTIONS.format(
            schema=schema,
            max_text=MAX_TEXT,
            max_run=MAX_RUN,
            max_pair_keys=MAX_PAIR_KEYS,
            max_query_text=MAX_QUERY_TEXT,
            max_query_grams=MAX_QUERY_GRAMS,
        )
    )
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON tasks"
        " USING gin (cognova_task_keys(status, tags, title, description))"
        f" WITH (gin_pending_list_limit = {PENDING_LIST_KB}) WHERE deleted_at IS NULL"
    )


def downgrade():
    op.execute("DROP FUNCTION IF EXISTS cognova_task_candidates(text[], text[], text)")
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute("DROP FUNCTION IF EXISTS cognova_task_query_keys(text, text[], text)")
    op.execute("DROP FUNCTION IF EXISTS cognova_task_keys(text, text[], text, text)")
    op.execute("DROP FUNCTION IF EXISTS cognova_task_grams(text)")
