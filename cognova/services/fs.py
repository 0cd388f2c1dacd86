"""File-system operations on the vault (API.md §8), each keeping the documents table in step.

Every path goes through ``vault.sandbox`` first; writes are atomic; mutations hold the advisory
lock of the paths they touch and emit one ``document`` event per affected row.
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import shutil
import stat
from datetime import UTC, datetime

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.documents import Document
from cognova.services import frontmatter_io, sync, vault
from cognova.services.errors import Conflict, Invalid, NotFound, field_error
from cognova.services.files import atomic_write
from cognova.services.notifications import notify

READ_LIMIT = 20 * 1024 * 1024


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, UTC)


def _exists(vp: vault.VaultPath) -> bool:
    return os.path.lexists(vp.abs)


def _root_refused(field: str) -> Invalid:
    return field_error(field, "must not be the vault root")


# ----------------------------------------------------------------- list / read


def list_entries(path: str, recursive: bool) -> list[dict]:
    vp = vault.sandbox(path)
    try:
        st = vp.abs.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound("Path not found") from None
    if not stat.S_ISDIR(st.st_mode):
        raise field_error("path", "must be a directory")
    return _entries(str(vp.abs), vp.rel, recursive, str(vault.root()))


def _entries(directory: str, rel: str, recursive: bool, base: str) -> list[dict]:
    dirs, files = [], []
    try:
        scanned = list(os.scandir(directory))
    except OSError:
        return []
    for entry in scanned:
        if entry.name.startswith("."):
            continue
        entry_rel = f"{rel}/{entry.name}" if rel else entry.name
        try:
            link = entry.is_symlink()
            if link and not vault._inside(os.path.realpath(entry.path), base):
                continue
            st = entry.stat()
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            item = {
                "name": entry.name,
                "path": entry_rel,
                "type": "directory",
                "size": None,
                "modifiedAt": _iso(st),
            }
            if recursive:
                item["children"] = [] if link else _entries(entry.path, entry_rel, True, base)
            dirs.append(item)
        elif stat.S_ISREG(st.st_mode):
            files.append(
                {
                    "name": entry.name,
                    "path": entry_rel,
                    "type": "file",
                    "size": st.st_size,
                    "modifiedAt": _iso(st),
                }
            )
    dirs.sort(key=lambda e: (e["name"].lower(), e["name"]))
    files.sort(key=lambda e: (e["name"].lower(), e["name"]))
    return dirs + files


def _iso(st: os.stat_result) -> str:
    from cognova.api.validation import iso_ms

    return iso_ms(_mtime(st))


def read(path: str) -> dict:
    vp = vault.sandbox(path)
    st = vault.require_file(vp)
    if st.st_size > READ_LIMIT:
        raise field_error("path", f"file is larger than {READ_LIMIT} bytes")
    data = vault.read_bytes(vp)
    encoding = "utf-8"
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        content, encoding = base64.b64encode(data).decode(), "base64"
    return {
        "path": vp.rel,
        "content": content,
        "encoding": encoding,
        "size": len(data),
        "modifiedAt": _iso(st),
        "contentHash": vault.sha256(data),
    }


# ----------------------------------------------------------------- write / mkdir


def _decode(content: str, encoding: str) -> bytes:
    if encoding == "base64":
        try:
            return base64.b64decode(content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise field_error("content", "must be valid base64") from None
    return content.encode("utf-8", errors="surrogatepass")


def _make_parents(vp: vault.VaultPath, field: str) -> None:
    try:
        vp.abs.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise field_error(field, "a parent of this path is a file") from None


def write(path: str, content: str, encoding: str, actor: str | None) -> dict:
    vp = vault.sandbox(path)
    if vp.is_root:
        raise _root_refused("path")
    if vp.abs.is_dir():
        raise field_error("path", "is a directory")
    data = _decode(content, encoding)
    sync.check_size(len(data))
    sync.lock_path(vp.rel)
    created = not _exists(vp)
    _make_parents(vp, "path")
    try:
        atomic_write(vp.abs, data)
    except (IsADirectoryError, NotADirectoryError):
        raise field_error("path", "is not a writable file path") from None
    digest = vault.sha256(data)
    if not vp.hidden:
        sync.sync_file(vp, actor, data=data)
    db.session.commit()
    return {"path": vp.rel, "created": created, "size": len(data), "contentHash": digest}


def mkdir(path: str) -> dict:
    vp = vault.sandbox(path)
    if vp.is_root:
        raise _root_refused("path")
    if _exists(vp):
        raise Conflict("Path already exists")
    try:
        vp.abs.mkdir(parents=True)
    except FileExistsError:
        raise Conflict("Path already exists") from None
    except NotADirectoryError:
        raise field_error("path", "a parent of this path is a file") from None
    return {"path": vp.rel, "created": True}


# ----------------------------------------------------------------- delete


def delete(path: str, actor: str | None) -> dict:
    vp = vault.sandbox(path)
    if vp.is_root:
        raise _root_refused("path")
    if not _exists(vp):
        raise NotFound("Path not found")
    sync.lock_path(vp.rel)
    if vp.abs.is_dir() and not vp.abs.is_symlink():
        shutil.rmtree(vp.abs)
    else:
        vp.abs.unlink()
    sync.vanish_under(vp.rel, actor)
    db.session.commit()
    return {"path": vp.rel, "deleted": True}


# ----------------------------------------------------------------- rename / move


def rename(old_path: str, new_path: str, actor: str | None) -> dict:
    old = vault.sandbox(old_path, "oldPath")
    new = vault.sandbox(new_path, "newPath")
    if old.is_root:
        raise _root_refused("oldPath")
    if new.is_root:
        raise _root_refused("newPath")
    if not _exists(old):
        raise NotFound("Path not found")
    if new.rel == old.rel:
        raise Conflict("Path already exists")
    if _exists(new):
        raise Conflict("Path already exists")
    if not new.abs.parent.is_dir():
        raise field_error("newPath", "parent directory does not exist")
    if new.rel.startswith(old.rel + "/"):
        raise field_error("newPath", "cannot move a directory into itself")
    _relocate(old, new, actor)
    return {"oldPath": old.rel, "newPath": new.rel}


def move(source_path: str, destination_path: str, actor: str | None) -> dict:
    source = vault.sandbox(source_path, "sourcePath")
    destination = vault.sandbox(destination_path, "destinationPath")
    if source.is_root:
        raise _root_refused("sourcePath")
    if not _exists(source):
        raise NotFound("Source not found")
    if not _exists(destination):
        raise NotFound("Destination not found")
    if not destination.abs.is_dir():
        raise field_error("destinationPath", "must be a directory")
    if destination.rel == source.rel or destination.rel.startswith(source.rel + "/"):
        raise field_error("destinationPath", "cannot move a directory into itself")
    target_rel = posixpath.join(destination.rel, source.name) if destination.rel else source.name
    target = vault.sandbox(target_rel, "destinationPath")
    if _exists(target):
        raise Conflict("Path already exists")
    _relocate(source, target, actor)
    return {"oldPath": source.rel, "newPath": target.rel, "moved": True}


def _relocate(old: vault.VaultPath, new: vault.VaultPath, actor: str | None) -> None:
    for rel in sorted((old.rel, new.rel)):
        sync.lock_path(rel)
    is_dir = old.abs.is_dir() and not old.abs.is_symlink()
    os.rename(old.abs, new.abs)
    _vacate(new.rel, actor)
    rows = list(
        db.session.scalars(
            sa.select(Document).where(
                Document.deleted_at.is_(None),
                sa.or_(
                    Document.path == old.rel,
                    Document.path.startswith(old.rel + "/", autoescape=True),
                ),
            )
        )
    )
    stamp = sync.now()
    moved_paths = []
    for row in rows:
        rel = new.rel + row.path[len(old.rel) :]
        moved_paths.append(row.path)
        if vault.is_hidden(rel):
            sync.mark_vanished([row], actor)
            continue
        _repath(row, rel)
        row.modified_at, row.modified_by, row.synced_at = stamp, actor, stamp
        notify("document", "edit", row.id, row.title)
    db.session.flush()
    sync.forget_stat(moved_paths)
    # Files that had no row (they were hidden before the move) become documents now.
    known = {new.rel + p[len(old.rel) :] for p in moved_paths}
    if not new.hidden:
        start = new if is_dir else None
        candidates = [f.rel for f in vault.walk_files(start)] if start is not None else [new.rel]
        for rel in candidates:
            if rel not in known and not vault.is_hidden(rel):
                sync.sync_file(vault.sandbox(rel), actor)
    db.session.commit()


def _vacate(rel: str, actor: str | None) -> None:
    """Rows still holding paths at the destination belong to files that no longer exist there;
    step them aside (soft-deleted, path suffixed) so the moved rows can take the paths."""
    stale = list(
        db.session.scalars(
            sa.select(Document).where(
                sa.or_(Document.path == rel, Document.path.startswith(rel + "/", autoescape=True))
            )
        )
    )
    if not stale:
        return
    sync.mark_vanished(stale, actor)
    for row in stale:
        row.path = f"{row.path}.deleted-{str(row.id)[:8]}"
    db.session.flush()


def _repath(row: Document, rel: str) -> None:
    """New path: recompute what the name decides (type, mime, kind, a name-derived title)."""
    old = row.path
    file_type = sync.file_type_of(rel)
    if file_type != row.file_type:
        vp = vault.sandbox(rel)
        data = vault.read_bytes(vp)
        facts = sync.derive(rel, data, sync.project_checker())
        for key, value in sync.file_values(rel, facts, row.title, old).items():
            setattr(row, key, value)
        return
    row.path = rel
    if file_type in sync.MARKDOWN_TYPES:
        parsed = frontmatter_io.parse(row.content or "")
        row.title = sync.markdown_title(parsed, rel)
    elif row.title == sync.stem_of(old):
        row.title = sync.stem_of(rel)
