"""Memory (API.md §12): listing and search, the context Claude is given, storing with
de-duplication, edits, and the daily decay.

Search matches the contract's case-insensitive substring and, through the full-text index
``ix_fts_memory_chunks``, stemmed word matches ("deploying" finds "deployed"). Rows that match
as words rank before rows that only contain the text as a fragment; within each group the
order is the contract's: relevance, then recency.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from cognova.extensions import db, redis_client, redis_key
from cognova.models import MemoryChunk
from cognova.schemas.memory import MemoryOut
from cognova.services.notifications import notify
from cognova.services.query import Page, paginate

log = logging.getLogger(__name__)

# Must stay identical to the expressions indexed in migration 0006, or the indexes go unused.
FTS_DOCUMENT = sa.literal_column(
    "to_tsvector('english'::regconfig, memory_chunks.content || ' ' "
    "|| coalesce(memory_chunks.source_excerpt, ''))"
)
NORMALISED_CONTENT = sa.literal_column(
    "lower(btrim(regexp_replace(memory_chunks.content, '\\s+', ' ', 'g')))"
)

SECTIONS = (
    ("preference", "Preferences"),
    ("decision", "Decisions"),
    ("fact", "Key Facts"),
    ("solution", "Solutions"),
    ("pattern", "Patterns"),
    ("summary", "Summaries"),
)

IDLE_DAYS = 30
DECAY_FACTOR = 0.95
FORGET_BELOW = 0.1
GRACE_DAYS = 30
DECAY_LOCK = 0x6D656D6F7279  # "memory"
DECAY_BATCH = 500  # rows per decay transaction


def serialize(row: MemoryChunk) -> dict:
    return MemoryOut.model_validate(row).model_dump(mode="json", by_alias=True)


def normalise(text: str) -> str:
    """The duplicate rule's normal form: lowercase, trimmed, whitespace runs collapsed."""
    return " ".join(text.split()).lower()


def _normalised_param(value: str) -> sa.ColumnElement:
    return sa.func.lower(sa.func.btrim(sa.func.regexp_replace(value, r"\s+", " ", "g")))


def not_expired(now=None) -> sa.ColumnElement:
    moment = now if now is not None else sa.func.now()
    return sa.or_(MemoryChunk.expires_at.is_(None), MemoryChunk.expires_at > moment)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ------------------------------------------------------------------ reading


def search(
    *,
    query: str | None = None,
    project_path: str | None = None,
    chunk_types: list[str] | None = None,
    min_relevance: float | None = None,
    include_expired: bool = False,
    page: int = 1,
    limit: int = 20,
    count_access: bool = False,
) -> Page:
    """One page of memories (API.md §12.1); counts access for the rows returned when asked."""
    conditions = []
    if project_path is not None:
        conditions.append(MemoryChunk.project_path == project_path)
    if chunk_types:
        conditions.append(MemoryChunk.chunk_type.in_(chunk_types))
    if min_relevance is not None:
        conditions.append(MemoryChunk.relevance_score >= min_relevance)
    if not include_expired:
        conditions.append(not_expired())
    text = (query or "").strip()
    if not text:
        stmt = (
            sa.select(MemoryChunk)
            .where(*conditions)
            .order_by(MemoryChunk.created_at.desc(), MemoryChunk.id)
        )
        result = paginate(stmt, page, limit)
    else:
        result = _search_page(text, conditions, page, limit)
    if count_access:
        record_access(result.items)
    return result


def _search_page(text: str, conditions: list, page: int, limit: int) -> Page:
    """One page of the memories matching *text*, and their total, in one statement.

    Order: word matches, then rows that contain the text only as a fragment; within each,
    relevance, then recency. Two arms, each read once through its own index (GIN for words,
    trigrams for fragments): the word arm is kept and also drops its rows from the fragment
    arm, so no full-text document is computed per row. Both carry only the sort keys; whole
    rows are read for the one page. Where the fragment arm cannot use its index (no pg_trgm,
    a text under three letters) it scans with the substring test alone.
    """
    ts_query = sa.func.websearch_to_tsquery(sa.literal_column("'english'::regconfig"), text)
    pattern = _like_pattern(text)
    keys = (MemoryChunk.relevance_score, MemoryChunk.created_at)
    words = (
        sa.select(MemoryChunk.id, *keys)
        .where(*conditions, FTS_DOCUMENT.op("@@")(ts_query))
        .cte("words")
    )
    fragments = sa.select(MemoryChunk.id, sa.false().label("word"), *keys).where(
        *conditions,
        sa.or_(
            MemoryChunk.content.ilike(pattern, escape="\\"),
            MemoryChunk.source_excerpt.ilike(pattern, escape="\\"),
        ),
        ~sa.exists().where(words.c.id == MemoryChunk.id),
    )
    hits = sa.union_all(
        sa.select(words.c.id, sa.true().label("word"), words.c.relevance_score, words.c.created_at),
        fragments,
    ).subquery("hits")

    def order(c):
        return (c.word.desc(), c.relevance_score.desc(), c.created_at.desc(), c.id)

    top = (
        sa.select(hits, sa.func.count().over().label("total"))
        .order_by(*order(hits.c))
        .limit(limit)
        .offset((page - 1) * limit)
        .subquery("top")
    )
    rows = db.session.execute(
        sa.select(MemoryChunk, top.c.total)
        .join(top, top.c.id == MemoryChunk.id)
        .order_by(*order(top.c))
    ).all()
    if rows:
        return Page([row[0] for row in rows], page, limit, rows[0].total)
    # past the end: the count alone says how many
    total = db.session.scalar(sa.select(sa.func.count()).select_from(hits))
    return Page([], page, limit, total or 0)


def record_access(rows: list[MemoryChunk]) -> None:
    """``accessCount += 1`` and ``lastAccessedAt = now`` in the caller's transaction, with the
    fresh values put on *rows* so the response shows them."""
    if not rows:
        return
    # Access counters are bookkeeping: a crash may lose the last few, never a memory. Not
    # waiting for the WAL flush keeps the reads that count access as fast as plain reads.
    db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    # rows are locked in id order, as every other writer of many memories does (the decay):
    # two searches counting the same memories at once wait for each other, never deadlock
    locked = (
        sa.select(MemoryChunk.id)
        .where(MemoryChunk.id.in_([row.id for row in rows]))
        .order_by(MemoryChunk.id)
        .with_for_update()
        .cte("locked")
    )
    fresh = db.session.execute(
        sa.update(MemoryChunk)
        .where(MemoryChunk.id == locked.c.id)
        .values(access_count=MemoryChunk.access_count + 1, last_accessed_at=sa.func.now())
        .returning(MemoryChunk.id, MemoryChunk.access_count, MemoryChunk.last_accessed_at),
        execution_options={"synchronize_session": False},
    ).all()
    by_id = {ident: (count, at) for ident, count, at in fresh}
    for row in rows:
        if row.id in by_id:
            set_committed_value(row, "access_count", by_id[row.id][0])
            set_committed_value(row, "last_accessed_at", by_id[row.id][1])


def select_context(project: str | None = None, limit: int = 5) -> list[MemoryChunk]:
    stmt = sa.select(MemoryChunk).where(not_expired())
    if project is not None:
        stmt = stmt.where(
            sa.or_(MemoryChunk.project_path == project, MemoryChunk.project_path.is_(None))
        )
    stmt = stmt.order_by(
        MemoryChunk.relevance_score.desc(), MemoryChunk.created_at.desc(), MemoryChunk.id
    ).limit(limit)
    return list(db.session.scalars(stmt))


def format_context(rows: list[MemoryChunk]) -> str:
    """The text injected into Claude's context (API.md §12.2), exactly."""
    if not rows:
        return ""
    count = len(rows)
    header = "1 memory loaded:" if count == 1 else f"{count} memories loaded:"
    sections = []
    for chunk_type, heading in SECTIONS:
        lines = [f"- {row.content}" for row in rows if row.chunk_type == chunk_type]
        if lines:
            sections.append(f"### {heading}\n" + "\n".join(lines))
    return header + "\n\n" + "\n\n".join(sections) + "\n"


def context(project: str | None = None, limit: int = 5) -> tuple[list[MemoryChunk], str]:
    """The memories for Claude's next context, counting access (caller commits)."""
    rows = select_context(project, limit)
    record_access(rows)
    return rows, format_context(rows)


def context_text(project: str | None = None, limit: int = 5) -> str:
    """The formatted memory context for a system prompt (chat, agents).

    Commits the access counts at once, so a long turn that follows holds no row locks.
    """
    _rows, text = context(project, limit)
    db.session.commit()
    return text


def get(memory_id) -> MemoryChunk:
    from cognova.services.errors import NotFound

    row = db.session.get(MemoryChunk, memory_id)
    if row is None:
        raise NotFound("Memory not found")
    return row


def count_live() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(not_expired())) or 0


# ------------------------------------------------------------------ writing


def _lock_content(content: str, project_path: str | None) -> None:
    """Serialise stores of the same text in the same scope, so two racing stores of one
    memory cannot both insert."""
    key = f"memory:{project_path if project_path is not None else ''}:{normalise(content)}"
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))


def find_duplicate(content: str, project_path: str | None) -> MemoryChunk | None:
    """An existing non-expired memory with the same normalised content and scope (§12)."""
    normal = _normalised_param(content)
    stmt = (
        sa.select(MemoryChunk)
        .where(sa.func.md5(NORMALISED_CONTENT) == sa.func.md5(normal))
        .where(normal == NORMALISED_CONTENT)
        .where(not_expired())
        .where(
            MemoryChunk.project_path.is_(None)
            if project_path is None
            else MemoryChunk.project_path == project_path
        )
        .order_by(MemoryChunk.created_at)
        .limit(1)
    )
    return db.session.scalar(stmt)


def store(
    content: str,
    chunk_type: str,
    *,
    session_id: str | None = None,
    project_path: str | None = None,
    source_excerpt: str | None = None,
    relevance_score: float = 0.9,
    expires_at: datetime | None = None,
) -> tuple[MemoryChunk, bool]:
    """Insert a memory unless it duplicates one; returns (row, created). Caller commits."""
    _lock_content(content, project_path)
    existing = find_duplicate(content, project_path)
    if existing is not None:
        return existing, False
    row = MemoryChunk(
        id=uuid.uuid4(),
        session_id=session_id,
        project_path=project_path,
        chunk_type=chunk_type,
        content=content,
        source_excerpt=source_excerpt,
        relevance_score=float(relevance_score),
        access_count=0,
        expires_at=expires_at,
        created_at=datetime.now(UTC),
    )
    db.session.add(row)
    db.session.flush()
    notify("memory", "create", row.id, row.content)
    return row, True


def update(memory_id, changes: dict) -> MemoryChunk:
    row = get(memory_id)
    for name, value in changes.items():
        setattr(row, name, float(value) if name == "relevance_score" else value)
    db.session.flush()
    notify("memory", "edit", row.id, row.content)
    return row


def delete(memory_id) -> uuid.UUID:
    row = get(memory_id)
    ident, name = row.id, row.content
    db.session.delete(row)
    db.session.flush()
    notify("memory", "delete", ident, name)
    return ident


# ------------------------------------------------------------------ decay (API.md §12.7)

# GIN indexes of memory search (migrations 0006, 0008); the trigram ones may not exist.
SEARCH_GIN_INDEXES = ("ix_fts_memory_chunks", "ix_trgm_memory_content", "ix_trgm_memory_excerpt")


def flush_search_indexes() -> None:
    """Move the entries a bulk update left in the GIN pending lists into the indexes proper,
    so searches do not scan them until the next vacuum. Runs in its own short transaction;
    a failure costs only search speed until then, so it is logged, not raised."""
    try:
        for name in SEARCH_GIN_INDEXES:
            db.session.execute(
                sa.select(sa.func.gin_clean_pending_list(sa.func.to_regclass(name))).where(
                    sa.func.to_regclass(name).isnot(None)
                )
            )
        db.session.commit()
    except sa.exc.DBAPIError:
        db.session.rollback()
        log.warning("memory search indexes: pending lists not flushed", exc_info=True)


def _marker_key() -> str:
    return redis_key("memory", "decay", "last-run")


def _progress_key() -> str:
    return redis_key("memory", "decay", "progress")


def _batches(statement, where, note=None) -> int:
    """Apply *statement* (an UPDATE with its values, or a DELETE) to the memories matching
    ``where()``, DECAY_BATCH at a time, each batch its own short transaction, until a batch
    comes back short; the number of rows. ``note(ids)`` runs just before each commit.

    A batch takes its rows in id order with ``FOR UPDATE SKIP LOCKED``: rows another
    transaction holds (a search counting access to them: they are in use, not idle) are
    skipped, so the decay never waits and never takes part in a deadlock.
    """
    total = 0
    while True:
        batch = (
            sa.select(MemoryChunk.id)
            .where(*where())
            .order_by(MemoryChunk.id)
            .limit(DECAY_BATCH)
            .with_for_update(skip_locked=True)
        )
        ids = (
            db.session.execute(
                statement.where(MemoryChunk.id.in_(batch.scalar_subquery()))
                .returning(MemoryChunk.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        if note is not None and ids:
            note(ids)
        db.session.commit()
        total += len(ids)
        if len(ids) < DECAY_BATCH:
            return total


def _decay_idle(now: datetime, today: str) -> int:
    """Multiply the relevance of idle memories by DECAY_FACTOR, in id order and batches.

    Each batch records the last id it reached in Redis before it commits, so a run cut short
    (a crash, a deploy) resumes after it the same day: no memory decays twice in a day (a failed
    commit loses that batch's decay rather than doubling the next one's).
    """
    redis = redis_client()
    key = _progress_key()
    day, _, after = (redis.get(key) or b"").decode().partition("|")
    reached = uuid.UUID(after) if day == today and after else None
    idle_since = now - timedelta(days=IDLE_DAYS)

    def where():
        idle = sa.func.coalesce(MemoryChunk.last_accessed_at, MemoryChunk.created_at) < idle_since
        after_reached = [] if reached is None else [MemoryChunk.id > reached]
        return [not_expired(now), idle, *after_reached]

    def note(ids):
        nonlocal reached
        reached = max(ids)
        redis.set(key, f"{today}|{reached}", ex=3 * 24 * 3600)

    weaker = sa.func.greatest(MemoryChunk.relevance_score * DECAY_FACTOR, 0)
    return _batches(sa.update(MemoryChunk).values(relevance_score=weaker), where, note)


def _expire_weak(now: datetime) -> int:
    """Give memories that decayed below FORGET_BELOW their expiry, GRACE_DAYS away."""
    expiring = sa.update(MemoryChunk).values(expires_at=now + timedelta(days=GRACE_DAYS))
    return _batches(
        expiring,
        lambda: [MemoryChunk.relevance_score < FORGET_BELOW, MemoryChunk.expires_at.is_(None)],
    )


def _purge_expired(now: datetime) -> int:
    """Delete memories expired for more than GRACE_DAYS."""
    gone_since = now - timedelta(days=GRACE_DAYS)
    return _batches(sa.delete(MemoryChunk), lambda: [MemoryChunk.expires_at < gone_since])


def decay(now: datetime | None = None) -> dict | None:
    """Run the daily decay once per UTC day; ``None`` when today's run already happened (or
    another process is running it). Returns the number of rows each step touched.

    Every step works in batches of DECAY_BATCH rows, one short transaction each, so a search
    that updates the access counts of memories it returns never waits on the decay for long.
    """
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date().isoformat()
    marker = _marker_key()
    redis = redis_client()
    if (redis.get(marker) or b"").decode() >= today:
        return None
    # a session-level lock on a connection of its own (autocommit: it holds no transaction
    # open meanwhile): the lock must outlast the batches' commits
    with db.engine.connect() as holder:
        holder.execution_options(isolation_level="AUTOCOMMIT")
        if not holder.scalar(sa.select(sa.func.pg_try_advisory_lock(DECAY_LOCK))):
            return None
        try:
            # another process may have finished between our first look and taking the lock
            if (redis.get(marker) or b"").decode() >= today:
                return None
            decayed = _decay_idle(now, today)
            forgotten = _expire_weak(now)
            purged = _purge_expired(now)
            redis.set(marker, today, ex=3 * 24 * 3600)
        except Exception:
            db.session.rollback()
            raise
        finally:
            holder.execute(sa.select(sa.func.pg_advisory_unlock(DECAY_LOCK)))
    flush_search_indexes()
    log.info("memory decay: %s decayed, %s set to expire, %s purged", decayed, forgotten, purged)
    return {"decayed": decayed, "expiring": forgotten, "purged": purged}
