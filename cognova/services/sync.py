"""The sync engine: reconciles vault files with the ``documents`` table (API.md §7.3).

One engine serves every path that learns about a file: ``sync_file`` for a single file (by-path,
GET, fs writes, the watcher) and ``full_sync`` for the whole vault (the sync job, the clock, the
import command). A full sync skips files whose size and mtime match the per-path stat cache in
Redis, then files whose hash matches the row, and writes the rest in batches.

Concurrency: single-file work holds a PostgreSQL advisory transaction lock keyed on the path;
the bulk writes of a full sync are conditional on the hash they read, so a concurrent API write
is never overwritten with older content — the next sync sees the newer file.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import posixpath
import re
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cognova.api.validation import normalise_tags
from cognova.extensions import db, redis_client, redis_key
from cognova.models.documents import Document
from cognova.models.tasks import Project
from cognova.services import frontmatter_io, vault
from cognova.services.errors import TooLarge
from cognova.services.notifications import build_event, notify, publish_many

log = logging.getLogger(__name__)

MARKDOWN_TYPES = frozenset({"md", "markdown"})
LOCK_NAMESPACE = 0x43564C54  # "CVLT": advisory-lock namespace of vault paths
BATCH = 500
INSERT_WORKERS = max(2, min(4, os.cpu_count() or 2))

MIME_TYPES = {
    "md": "text/markdown",
    "markdown": "text/markdown",
    "txt": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "py": "text/x-python",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


# ----------------------------------------------------------------- what a file says


@dataclass
class Facts:
    """Everything the table caches about one file's bytes."""

    file_type: str
    kind: str
    mime_type: str
    content: str | None
    content_hash: str
    size: int
    # markdown only (None: the row keeps what it has)
    title: str | None = None
    tags: list[str] | None = None
    project_id: uuid.UUID | None = None
    shared: bool | None = None
    share_type: str | None = None
    frontmatter_error: str | None = None
    body: str | None = None
    metadata: dict = field(default_factory=dict)


def file_type_of(rel: str) -> str:
    _, ext = posixpath.splitext(posixpath.basename(rel))
    return ext[1:].lower()


def stem_of(rel: str) -> str:
    name = posixpath.basename(rel)
    stem, _ = posixpath.splitext(name)
    return stem or name


def mime_of(file_type: str, kind: str) -> str:
    if file_type in MIME_TYPES:
        return MIME_TYPES[file_type]
    guessed = mimetypes.types_map.get("." + file_type) if file_type else None
    if guessed:
        return guessed
    return "application/octet-stream" if kind == "binary" else "text/plain"


def kind_of(file_type: str, content_is_null: bool) -> str:
    if file_type in MARKDOWN_TYPES:
        return "markdown"
    return "binary" if content_is_null else "text"


_HEADING = re.compile(r"^# +(.+?)(?: +#+)?[ \t]*$")
_FENCE = re.compile(r"^(```|~~~)")


def first_heading(body: str) -> str | None:
    in_fence = None
    for line in body.splitlines():
        fence = _FENCE.match(line.lstrip())
        if fence:
            marker = fence.group(1)
            in_fence = None if in_fence == marker else (in_fence or marker)
            continue
        if in_fence:
            continue
        match = _HEADING.match(line)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return None


def markdown_title(parsed: frontmatter_io.Parsed, rel: str) -> str:
    title = parsed.metadata.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    return first_heading(parsed.body) or stem_of(rel)


def frontmatter_tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, list):
        value = [value]
    return normalise_tags(value, lenient=True)


def frontmatter_project(value, project_exists: Callable[[uuid.UUID], bool]) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        ident = uuid.UUID(value.strip())
    except ValueError:
        return None
    return ident if project_exists(ident) else None


def derive(
    rel: str,
    data: bytes,
    project_exists: Callable[[uuid.UUID], bool],
    digest: str | None = None,
) -> Facts:
    """What the bytes of one file say (``digest``: their SHA-256 when the caller has it)."""
    file_type = file_type_of(rel)
    if digest is None:
        digest = hashlib.sha256(data).hexdigest()
    if file_type in MARKDOWN_TYPES:
        # PostgreSQL text cannot hold NUL; markdown is always decoded, so replace it too.
        text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        parsed = frontmatter_io.parse(text)
        meta = parsed.metadata
        share_type = meta.get("shareType")
        return Facts(
            file_type=file_type,
            kind="markdown",
            mime_type=mime_of(file_type, "markdown"),
            content=text,
            content_hash=digest,
            size=len(data),
            title=markdown_title(parsed, rel),
            tags=frontmatter_tags(meta.get("tags")),
            project_id=frontmatter_project(meta.get("project"), project_exists),
            shared=meta.get("shared") is True,
            share_type=share_type if share_type in ("public", "private") else None,
            frontmatter_error=parsed.error,
            body=parsed.body,
            metadata=meta,
        )
    content = None
    if b"\x00" not in data:
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            content = None
    kind = "binary" if content is None else "text"
    return Facts(
        file_type=file_type,
        kind=kind,
        mime_type=mime_of(file_type, kind),
        content=content,
        content_hash=digest,
        size=len(data),
    )


def project_checker() -> Callable[[uuid.UUID], bool]:
    """Existence of projects, looked up once per id."""
    cache: dict[uuid.UUID, bool] = {}

    def exists(ident: uuid.UUID) -> bool:
        if ident not in cache:
            cache[ident] = (
                db.session.scalar(sa.select(Project.id).where(Project.id == ident)) is not None
            )
        return cache[ident]

    return exists


def file_values(rel: str, facts: Facts, row_title: str | None, old_rel: str | None) -> dict:
    """Column values a file decides, for a new row (``row_title`` None) or an existing one."""
    values = {
        "path": rel,
        "file_type": facts.file_type,
        "mime_type": facts.mime_type,
        "content": facts.content,
        "content_hash": facts.content_hash,
    }
    if facts.kind == "markdown":
        values.update(
            title=facts.title,
            tags=facts.tags,
            project_id=facts.project_id,
            shared=facts.shared,
            share_type=facts.share_type,
        )
    elif row_title is None:
        values["title"] = stem_of(rel)
    elif old_rel is not None and old_rel != rel and row_title == stem_of(old_rel):
        values["title"] = stem_of(rel)  # the title was the file name; follow the rename
    return values


# ----------------------------------------------------------------- locks and the stat cache


def lock_path(rel: str) -> None:
    """Serialise work on one path across processes until the transaction ends."""
    db.session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:ns, hashtext(:path))"),
        {"ns": LOCK_NAMESPACE, "path": rel},
    )


def _stat_key() -> str:
    root = str(current_app.config["VAULT_PATH"])
    return redis_key("vault", "stat", hashlib.sha1(root.encode()).hexdigest()[:12])


def remember_stat(entries: dict[str, str]) -> None:
    if not entries:
        return
    try:
        redis_client().hset(_stat_key(), mapping=entries)
    except Exception:
        log.warning("vault stat cache unavailable", exc_info=True)


def forget_stat(paths: Iterable[str]) -> None:
    paths = list(paths)
    if not paths:
        return
    try:
        redis_client().hdel(_stat_key(), *paths)
    except Exception:
        log.warning("vault stat cache unavailable", exc_info=True)


def load_stat_cache() -> dict[str, str]:
    try:
        raw = redis_client().hgetall(_stat_key())
    except Exception:
        log.warning("vault stat cache unavailable", exc_info=True)
        return {}
    return {k.decode(): v.decode() for k, v in raw.items()}


def stat_entry(size: int, mtime_ns: int, digest: str) -> str:
    return f"{size}:{mtime_ns}:{digest}"


def _stat_of(vp: vault.VaultPath, size: int, digest: str) -> dict[str, str]:
    try:
        st = os.stat(vp.abs)
    except OSError:
        return {}
    if st.st_size != size:
        return {}
    return {vp.rel: stat_entry(st.st_size, st.st_mtime_ns, digest)}


# ----------------------------------------------------------------- one file


def now() -> datetime:
    return datetime.now(UTC)


def check_size(size: int) -> None:
    if size > current_app.config["MAX_FILE_BYTES"]:
        raise TooLarge(f"File too large (limit {current_app.config['MAX_FILE_BYTES']} bytes)")


def sync_file(
    vp: vault.VaultPath, actor: str | None = None, *, data: bytes | None = None
) -> tuple[Document, str, Facts]:
    """Apply the sync rule to one file. Returns the row, what happened
    (``created``/``updated``/``moved``/``revived``/``unchanged``) and the file's facts.
    The caller commits."""
    lock_path(vp.rel)
    if data is None:
        vault.require_file(vp)
        check_size(vp.abs.stat().st_size)
        data = vault.read_bytes(vp)
    else:
        check_size(len(data))
    facts = derive(vp.rel, data, project_checker())
    stamp = now()
    row = db.session.scalar(sa.select(Document).where(Document.path == vp.rel))
    action = "unchanged"
    if row is not None:
        if row.deleted_at is not None:
            row.deleted_at = None
            row.deleted_by = None
            action = "revived"
        if row.content_hash != facts.content_hash:
            _apply(row, file_values(vp.rel, facts, row.title, vp.rel))
            action = "updated" if action == "unchanged" else action
        if action != "unchanged":
            row.modified_at, row.modified_by = stamp, actor
        row.synced_at = stamp
    else:
        row = _moved_row(facts.content_hash)
        if row is not None:
            old = row.path
            _apply(row, file_values(vp.rel, facts, row.title, old))
            row.modified_at, row.modified_by, row.synced_at = stamp, actor, stamp
            forget_stat([old])
            action = "moved"
        else:
            row = Document(id=uuid.uuid4(), created_by=actor, modified_at=stamp, synced_at=stamp)
            _apply(row, file_values(vp.rel, facts, None, None))
            db.session.add(row)
            action = "created"
    db.session.flush()
    event = {"created": "create", "updated": "edit", "moved": "edit", "revived": "restore"}
    if action in event:
        notify("document", event[action], row.id, row.title)
    remember_stat(_stat_of(vp, len(data), facts.content_hash))
    return row, action, facts


def _apply(row: Document, values: dict) -> None:
    for key, value in values.items():
        setattr(row, key, value)


def _moved_row(digest: str) -> Document | None:
    """A live row with this hash whose file is gone: the file was moved (§7.3 step 3)."""
    candidates = db.session.scalars(
        sa.select(Document)
        .where(Document.content_hash == digest, Document.deleted_at.is_(None))
        .order_by(Document.created_at)
    )
    base = vault.root()
    for candidate in candidates:
        if not os.path.lexists(base / candidate.path):
            return candidate
    return None


def mark_vanished(rows: Iterable[Document], actor: str | None = None) -> int:
    """Soft-delete rows whose files are gone (content kept), one event each."""
    count = 0
    stamp = now()
    for row in rows:
        if row.deleted_at is not None:
            continue
        row.deleted_at, row.deleted_by = stamp, actor
        notify("document", "delete", row.id, row.title)
        count += 1
    return count


def vanish_under(rel: str, actor: str | None = None) -> int:
    """Soft-delete the row of a vanished file, or of every file under a vanished directory,
    unless the file is actually still there."""
    base = vault.root()
    rows = db.session.scalars(
        sa.select(Document).where(
            Document.deleted_at.is_(None),
            sa.or_(Document.path == rel, Document.path.startswith(rel + "/", autoescape=True))
            if rel
            else sa.true(),
        )
    )
    gone = [row for row in rows if not os.path.lexists(base / row.path)]
    forget_stat(row.path for row in gone)
    return mark_vanished(gone, actor)


# ----------------------------------------------------------------- the whole vault


@dataclass
class SyncReport:
    scanned: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    errors: int = 0
    error_paths: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "scanned": self.scanned,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
        }


def full_sync(
    actor: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    dry_run: bool = False,
) -> SyncReport:
    """Walk the vault and reconcile every non-hidden file; soft-delete rows of vanished files."""
    report = SyncReport()
    files = list(vault.walk_files())
    report.scanned = len(files)
    on_disk = {f.rel for f in files}
    cache = load_stat_cache()
    index = {
        r.path: r
        for r in db.session.execute(
            sa.select(
                Document.id,
                Document.path,
                Document.content_hash,
                Document.deleted_at,
                Document.title,
            )
        )
    }
    limit = current_app.config["MAX_FILE_BYTES"]
    pending = []
    rehashed: list[uuid.UUID] = []
    fresh_stats: dict[str, str] = {}
    for f in files:
        row = index.get(f.rel)
        live = row is not None and row.deleted_at is None
        cached = cache.get(f.rel)
        if live and cached == stat_entry(f.size, f.mtime_ns, row.content_hash or ""):
            report.unchanged += 1
            if progress:
                progress(1)
            continue
        if f.size > limit:
            report.skipped += 1
            if progress:
                progress(1)
            continue
        try:
            with open(f.abs, "rb") as fh:
                data = fh.read()
        except OSError:
            report.errors += 1
            report.error_paths.append(f.rel)
            if progress:
                progress(1)
            continue
        digest = hashlib.sha256(data).hexdigest()
        fresh_stats[f.rel] = stat_entry(len(data), f.mtime_ns, digest)
        if live and row.content_hash == digest:
            report.unchanged += 1
            rehashed.append(row.id)
            if progress:
                progress(1)
            continue
        pending.append((f, data, digest))
    if dry_run:
        return _dry_run_report(report, pending, index, on_disk, progress)

    exists = _project_set()
    live_by_hash: dict[str, list] = {}
    for r in index.values():
        if r.deleted_at is None and r.path not in on_disk and r.content_hash:
            live_by_hash.setdefault(r.content_hash, []).append(r)
    moved_from: set[str] = set()
    events: list[dict] = []
    # New rows are inserted by a few connections at once: the database's full-text work per
    # row (to_tsvector for the GIN index) dominates a cold import and runs on every core.
    engine = db.engine
    with ThreadPoolExecutor(max_workers=INSERT_WORKERS) as pool:
        inserting = []
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            inserts = _write_chunk(
                chunk, index, live_by_hash, moved_from, exists, actor, report, events
            )
            db.session.commit()
            publish_many(events)
            events.clear()
            if inserts:
                inserting.append((pool.submit(_insert_rows, engine, inserts), chunk))
            else:
                remember_stat({f.rel: fresh_stats[f.rel] for f, _, _ in chunk})
                if progress:
                    progress(len(chunk))
        for future, chunk in inserting:
            created = future.result()
            report.created += len(created)
            publish_many([build_event("document", "create", i, t) for i, t in created])
            remember_stat({f.rel: fresh_stats[f.rel] for f, _, _ in chunk})
            if progress:
                progress(len(chunk))
    if rehashed:
        db.session.execute(
            sa.update(Document).where(Document.id.in_(rehashed)).values(synced_at=now())
        )
    written = {f.rel for f, _, _ in pending}
    remember_stat({rel: entry for rel, entry in fresh_stats.items() if rel not in written})
    vanished = [
        r.id
        for r in index.values()
        if r.deleted_at is None and r.path not in on_disk and r.path not in moved_from
    ]
    if vanished:
        rows = db.session.scalars(
            sa.select(Document).where(Document.id.in_(vanished), Document.deleted_at.is_(None))
        )
        # re-check on disk: a file may have appeared since the walk
        base = vault.root()
        gone = [row for row in rows if not os.path.lexists(base / row.path)]
        report.deleted = mark_vanished(gone, actor)
        forget_stat(row.path for row in gone)
    db.session.commit()
    return report


def _project_set() -> Callable[[uuid.UUID], bool]:
    known = set(db.session.scalars(sa.select(Project.id)))
    return known.__contains__


# Columns a new row gets from the sync; the others keep their server defaults.
COPY_COLUMNS = (
    "id",
    "title",
    "path",
    "content",
    "content_hash",
    "tags",
    "project_id",
    "shared",
    "share_type",
    "file_type",
    "mime_type",
    "created_by",
    "modified_at",
    "synced_at",
)
COPY_SQL = f"COPY documents ({', '.join(COPY_COLUMNS)}) FROM STDIN"


def _insert_rows(engine, inserts: list[dict]) -> list[tuple]:
    """Insert new rows; returns ``(id, title)`` of those inserted.

    COPY is the cheapest way in (one statement, no per-row round trip or planning, and the
    least Python per row). A path taken meanwhile by a concurrent write makes the COPY fail as
    a whole; that batch is then inserted with ``ON CONFLICT (path) DO NOTHING``, so the rows of
    the paths already present are left as they are.
    """
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        try:
            with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
                for values in inserts:
                    copy.write_row([values[c] for c in COPY_COLUMNS])
            conn.commit()
            return [(values["id"], values["title"]) for values in inserts]
        except psycopg.errors.UniqueViolation:
            conn.rollback()
    finally:
        raw.close()
    return _insert_rows_skipping(engine, inserts)


def _insert_rows_skipping(engine, inserts: list[dict]) -> list[tuple]:
    table = Document.__table__
    stmt = (
        pg_insert(table)
        .on_conflict_do_nothing(index_elements=["path"])
        .returning(table.c.id, table.c.title)
    )
    with engine.begin() as conn:
        return [tuple(r) for r in conn.execute(stmt, inserts)]


def _write_chunk(chunk, index, live_by_hash, moved_from, exists, actor, report, events) -> list:
    """Apply updates and moves of one batch on the session; return the rows to insert."""
    stamp = now()
    inserts: list[dict] = []
    table = Document.__table__
    for f, data, digest in chunk:
        try:
            facts = derive(f.rel, data, exists, digest)
        except Exception:
            log.exception("could not read %s", f.rel)
            report.errors += 1
            report.error_paths.append(f.rel)
            continue
        row = index.get(f.rel)
        if row is not None:
            values = file_values(f.rel, facts, row.title, f.rel)
            values.update(deleted_at=None, deleted_by=None, modified_at=stamp, synced_at=stamp)
            values["modified_by"] = actor
            # conditional on what we read: a concurrent API write wins
            result = db.session.execute(
                table.update()
                .where(
                    table.c.id == row.id,
                    table.c.content_hash.is_not_distinct_from(row.content_hash),
                )
                .values(**values)
            )
            if result.rowcount:
                report.updated += 1
                action = "restore" if row.deleted_at is not None else "edit"
                events.append(
                    build_event("document", action, row.id, values.get("title") or row.title)
                )
            continue
        movers = [m for m in live_by_hash.get(digest, ()) if m.path not in moved_from]
        if movers:
            mover = movers[0]
            moved_from.add(mover.path)
            values = file_values(f.rel, facts, mover.title, mover.path)
            values.update(modified_at=stamp, modified_by=actor, synced_at=stamp)
            db.session.execute(table.update().where(table.c.id == mover.id).values(**values))
            report.updated += 1
            events.append(
                build_event("document", "edit", mover.id, values.get("title") or mover.title)
            )
            continue
        values = file_values(f.rel, facts, None, None)
        values.update(
            id=uuid.uuid4(),
            created_by=actor,
            modified_at=stamp,
            synced_at=stamp,
        )
        values.setdefault("tags", [])
        values.setdefault("shared", False)
        values.setdefault("share_type", None)
        values.setdefault("project_id", None)
        inserts.append(values)
    return inserts


def _dry_run_report(report, pending, index, on_disk, progress) -> SyncReport:
    for f, _data, _digest in pending:
        if f.rel in index:
            report.updated += 1
        else:
            report.created += 1
        if progress:
            progress(1)
    report.deleted = sum(
        1 for r in index.values() if r.deleted_at is None and r.path not in on_disk
    )
    return report
