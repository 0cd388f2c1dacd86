"""Documents (API.md §7): the rows that mirror vault files, and the edits that go to disk first.

The file is the source of truth. Every read of one document re-applies the sync rule; every
write takes the path's advisory lock, checks the optional hash precondition against the bytes on
disk, writes atomically, then updates the row in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer

from cognova.api.validation import iso_ms
from cognova.extensions import db
from cognova.models.auth import User
from cognova.models.documents import Document
from cognova.models.tasks import Project
from cognova.services import frontmatter_io, search, sync, vault
from cognova.services.errors import Conflict, Invalid, NotFound, field_error
from cognova.services.files import atomic_write
from cognova.services.notifications import notify
from cognova.services.query import get_or_404, live

MISSING = object()


# ----------------------------------------------------------------- serialization


def kind(row: Document, content_is_null: bool | None = None) -> str:
    if content_is_null is None:
        content_is_null = row.content is None
    return sync.kind_of(row.file_type, content_is_null)


def project_refs(ids: set) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Project.id, Project.name, Project.color).where(Project.id.in_(ids))
    )
    return {r.id: {"id": str(r.id), "name": r.name, "color": r.color} for r in rows}


def serialize(row: Document, project: dict | None = None, content_is_null=None) -> dict:
    return {
        "id": str(row.id),
        "title": row.title,
        "path": row.path,
        "fileType": row.file_type,
        "kind": kind(row, content_is_null),
        "mimeType": row.mime_type,
        "contentHash": row.content_hash,
        "tags": list(row.tags or []),
        "projectId": str(row.project_id) if row.project_id else None,
        "project": project,
        "shared": bool(row.shared),
        "shareType": row.share_type,
        "syncedAt": iso_ms(row.synced_at),
        "modifiedAt": iso_ms(row.modified_at),
        "deletedAt": iso_ms(row.deleted_at),
        "createdAt": iso_ms(row.created_at),
        "createdBy": row.created_by,
        "modifiedBy": row.modified_by,
        "deletedBy": row.deleted_by,
    }


def serialize_one(row: Document) -> dict:
    return serialize(row, project_refs({row.project_id}).get(row.project_id))


@dataclass
class View:
    """A DocumentView plus the hash for the ETag header."""

    data: dict
    etag: str | None


def view_of(row: Document, text: str | None = None) -> View:
    """DocumentView from the file's text (or the stored content for a deleted row)."""
    text = row.content if text is None else text
    k = kind(row)
    extra: dict[str, Any] = {}
    if k == "markdown":
        parsed = frontmatter_io.parse(text or "")
        metadata, body = frontmatter_io.jsonable(parsed.metadata), parsed.body
        # Not in the contract's table: tells the editor why the frontmatter was ignored.
        extra["frontmatterError"] = parsed.error
    elif k == "text":
        metadata, body = {"title": row.title, "tags": list(row.tags or [])}, text or ""
    else:
        metadata, body = {"title": row.title}, ""
    data = {"document": serialize_one(row), "metadata": metadata, "body": body, **extra}
    return View(data, row.content_hash)


# ----------------------------------------------------------------- list


def list_documents(
    *,
    page: int,
    limit: int,
    project_id: uuid.UUID | None = None,
    file_type: str | None = None,
    kind_filter: str | None = None,
    tags: list[str] | None = None,
    shared: bool | None = None,
    search_text: str | None = None,
    include_deleted: bool = False,
):
    content_null = Document.content.is_(None).label("content_null")
    stmt = live(
        sa.select(Document, content_null).options(defer(Document.content)),
        Document,
        include_deleted,
    )
    if project_id is not None:
        stmt = stmt.where(Document.project_id == project_id)
    if file_type:
        lowered = file_type.strip().lower()
        if lowered in ("markdown", "text", "binary"):
            kind_filter = kind_filter or lowered
            if kind_filter != lowered:
                stmt = stmt.where(sa.false())
        else:
            stmt = stmt.where(sa.func.lower(Document.file_type) == lowered)
    if kind_filter:
        is_md = Document.file_type.in_(sync.MARKDOWN_TYPES)
        if kind_filter == "markdown":
            stmt = stmt.where(is_md)
        elif kind_filter == "binary":
            stmt = stmt.where(~is_md, Document.content.is_(None))
        else:
            stmt = stmt.where(~is_md, Document.content.is_not(None))
    if tags:
        stmt = stmt.where(Document.tags.contains(list(tags)))
    if shared is not None:
        stmt = stmt.where(Document.shared.is_(shared))
    if search_text is not None and search_text.strip():
        stmt = stmt.where(search.document_filter(search_text.strip()))
    stmt = stmt.order_by(
        sa.func.coalesce(Document.modified_at, Document.created_at).desc(), Document.path.asc()
    )
    searching = search_text is not None and bool(search_text.strip())
    total = None
    if searching:
        # The content match reads every row: count in the same pass as the page.
        counted = stmt.add_columns(sa.func.count().over().label("total"))
        found = db.session.execute(counted.limit(limit).offset((page - 1) * limit)).all()
        pairs = [(doc, null) for doc, null, _ in found]
        if found:
            total = found[0].total
        elif page == 1:
            total = 0
    else:
        pairs = db.session.execute(stmt.limit(limit).offset((page - 1) * limit)).all()
    if total is None:
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
        )
    projects = project_refs({doc.project_id for doc, _ in pairs})
    items = [serialize(doc, projects.get(doc.project_id), null) for doc, null in pairs]
    return items, total or 0


# ----------------------------------------------------------------- one document


def _file_path(row: Document) -> vault.VaultPath:
    return vault.sandbox(row.path)


def _vanish(row: Document, actor: str | None) -> NotFound:
    """The file is gone: soft-delete the row now (committed) and answer 404."""
    sync.mark_vanished([row], actor)
    sync.forget_stat([row.path])
    db.session.commit()
    return NotFound("Document file not found")


def open_by_path(path: str, actor: str | None) -> View:
    vp = vault.sandbox(path)
    if vp.is_root or vp.hidden:
        raise field_error("path", "must name a visible file")
    if vp.abs.is_dir():
        raise field_error("path", "must be a file, not a directory")
    vault.require_file(vp)
    data_bytes = _read_checked(vp)
    row, _action, facts = sync.sync_file(vp, actor, data=data_bytes)
    db.session.commit()
    return _view_from_facts(row, facts)


def _read_checked(vp: vault.VaultPath) -> bytes:
    st = vault.require_file(vp)
    sync.check_size(st.st_size)
    return vault.read_bytes(vp)


def _view_from_facts(row: Document, facts: sync.Facts) -> View:
    view = view_of(row, facts.content)
    return view


def get_document(ident: uuid.UUID, actor: str | None, include_deleted: bool = False) -> View:
    row = get_or_404(Document, ident, include_deleted=include_deleted, message="Document not found")
    if row.deleted_at is not None:
        return view_of(row)
    vp = _file_path(row)
    if not vp.abs.is_file():
        raise _vanish(row, None)
    data_bytes = _read_checked(vp)
    row, _action, facts = sync.sync_file(vp, actor, data=data_bytes)
    db.session.commit()
    return _view_from_facts(row, facts)


def _sharing(row: Document, given: dict) -> tuple[bool, str | None] | None:
    """The sharing rules of PUT (§7.4). None when the body says nothing about sharing."""
    shared = given.get("shared", MISSING)
    share_type = given.get("share_type", MISSING)
    if shared is MISSING and share_type is MISSING:
        return None
    if shared is False and share_type not in (MISSING, None):
        raise field_error("shareType", "must be null when shared is false")
    if shared is MISSING:
        shared = share_type is not None
    if not shared:
        return False, None
    if share_type in (MISSING, None):
        share_type = row.share_type or "private"
    return True, share_type


def _project_ok(project_id: uuid.UUID | None) -> None:
    if project_id is None:
        return
    found = db.session.scalar(
        sa.select(Project.id).where(Project.id == project_id, Project.deleted_at.is_(None))
    )
    if found is None:
        raise field_error("projectId", "project not found")


def _normalise_hash(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"').strip().lower() or None


def update_document(
    ident: uuid.UUID, given: dict, actor: str | None, if_match: str | None = None
) -> View:
    row = get_or_404(Document, ident, message="Document not found")
    if kind(row) == "binary":
        raise Invalid("Binary documents cannot be edited")
    expected = _normalise_hash(given.pop("expected_hash", None)) or _normalise_hash(if_match)
    if not given:
        raise Invalid("No updatable fields provided")
    _project_ok(given.get("project_id"))
    sharing = _sharing(row, given)
    vp = _file_path(row)
    sync.lock_path(vp.rel)
    db.session.refresh(row)
    if row.deleted_at is not None:
        raise NotFound("Document not found")
    if not vp.abs.is_file():
        raise _vanish(row, None)
    current = _read_checked(vp)
    current_hash = vault.sha256(current)
    if expected is not None and expected != current_hash:
        raise Conflict("Document changed on disk")
    if kind(row) == "markdown":
        new_bytes = _markdown_bytes(row, current, given, sharing)
    else:
        new_bytes = given["body"].encode() if "body" in given else None
    if new_bytes is not None and new_bytes != current:
        sync.check_size(len(new_bytes))
        atomic_write(vp.abs, new_bytes)
        data = new_bytes
    else:
        data = current
    facts = sync.derive(vp.rel, data, sync.project_checker())
    values = sync.file_values(vp.rel, facts, row.title, vp.rel)
    values.pop("path")
    for key, value in values.items():
        setattr(row, key, value)
    if kind(row) != "markdown":
        _row_metadata(row, given, sharing)
    stamp = sync.now()
    row.synced_at = row.modified_at = stamp
    row.modified_by = actor
    notify("document", "edit", row.id, row.title)
    db.session.commit()
    sync.remember_stat(sync._stat_of(vp, len(data), facts.content_hash))
    return view_of(row, facts.content)


def _row_metadata(row: Document, given: dict, sharing) -> None:
    if "title" in given:
        row.title = given["title"]
    if "tags" in given:
        row.tags = given["tags"]
    if "project_id" in given:
        row.project_id = given["project_id"]
    if sharing is not None:
        row.shared, row.share_type = sharing


def _markdown_bytes(row: Document, current: bytes, given: dict, sharing) -> bytes:
    text = current.decode("utf-8", errors="replace")
    parsed = frontmatter_io.parse(text)
    old = parsed.metadata
    body = given.get("body", parsed.body)
    title = given.get("title", row.title)
    tags = given.get("tags", list(row.tags or []))
    shared, share_type = sharing if sharing is not None else (bool(row.shared), row.share_type)
    project_id = given.get("project_id", row.project_id)
    meta: dict[str, Any] = {"title": title, "tags": list(tags), "shared": shared}
    if share_type is not None:
        meta["shareType"] = share_type
    if project_id is not None:
        meta["project"] = str(project_id)
    for key, value in old.items():
        if key not in ("title", "tags", "shared", "shareType", "project"):
            meta[key] = value
    return frontmatter_io.compose(meta, body).encode()


def delete_document(ident: uuid.UUID, actor: str | None) -> dict:
    row = get_or_404(Document, ident, message="Document not found")
    vp = _file_path(row)
    sync.lock_path(vp.rel)
    if vp.abs.is_file() or vp.abs.is_symlink():
        vp.abs.unlink()
    sync.mark_vanished([row], actor)
    sync.forget_stat([row.path])
    db.session.commit()
    return serialize_one(row)


def restore_document(ident: uuid.UUID, actor: str | None) -> dict:
    row = get_or_404(Document, ident, include_deleted=True, message="Document not found")
    if row.deleted_at is None:
        raise Invalid("Not deleted")
    if row.content is None:
        raise Invalid("Binary documents cannot be restored")
    vp = vault.sandbox(row.path)
    sync.lock_path(vp.rel)
    if os_exists(vp):
        raise Conflict("A file already exists at this path")
    data = row.content.encode()
    atomic_write(vp.abs, data)
    row.deleted_at = row.deleted_by = None
    row.content_hash = vault.sha256(data)
    row.modified_at = row.synced_at = sync.now()
    row.modified_by = actor
    notify("document", "restore", row.id, row.title)
    db.session.commit()
    sync.remember_stat(sync._stat_of(vp, len(data), row.content_hash))
    return serialize_one(row)


def os_exists(vp: vault.VaultPath) -> bool:
    return vp.abs.exists() or vp.abs.is_symlink()


# ----------------------------------------------------------------- public view


@dataclass
class PublicView:
    data: dict
    private: bool


def public_view(ident: uuid.UUID, is_owner: bool) -> PublicView:
    from cognova.services.errors import Forbidden

    row = db.session.get(Document, ident)
    if row is None or row.deleted_at is not None:
        raise NotFound("Document not found")
    if not row.shared:
        raise Forbidden("Document is not shared")
    vp = vault.sandbox(row.path)
    if not vp.abs.is_file():
        raise NotFound("Document not found")
    data = _read_checked(vp)
    facts = sync.derive(vp.rel, data, lambda _ident: True)
    if facts.kind == "markdown":
        content = facts.body
    elif facts.kind == "text":
        content = facts.content
    else:
        content = None
    creator = db.session.get(User, row.created_by) if row.created_by else None
    document = {
        "id": str(row.id),
        "title": row.title,
        "path": row.path,
        "fileType": row.file_type,
        "kind": facts.kind,
        "mimeType": row.mime_type,
        "shared": True,
        "shareType": row.share_type,
        "tags": list(row.tags or []),
        "createdAt": iso_ms(row.created_at),
        "modifiedAt": iso_ms(row.modified_at),
        "creatorName": creator.name if creator is not None else None,
    }
    return PublicView(
        {"document": document, "content": content, "isOwner": is_owner},
        private=row.share_type != "public",
    )


def raw_bytes(row: Document) -> bytes:
    """The file's bytes (download button of the public page)."""
    return _read_checked(vault.sandbox(row.path))
