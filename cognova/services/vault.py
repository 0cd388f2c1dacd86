"""The vault sandbox: every path a client names goes through ``sandbox`` before the disk is
touched, and the walker never leaves the root.

Paths are vault-relative strings with forward slashes (API.md §8.1). ``sandbox`` normalises the
string, refuses anything that would land outside the root (``..``, absolute paths, encoded
traversal, NUL bytes, symlinks pointing out) with 403, and hands back both the absolute path to
operate on and the canonical relative form stored in ``documents.path``.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from flask import current_app

from cognova.services.errors import Forbidden, Invalid, NotFound, Unavailable, field_error

OUTSIDE = "Path outside vault directory"
MAX_PATH_CHARS = 4096


@dataclass(frozen=True)
class VaultPath:
    abs: Path
    rel: str  # "" is the root

    @property
    def is_root(self) -> bool:
        return self.rel == ""

    @property
    def name(self) -> str:
        return posixpath.basename(self.rel)

    @property
    def hidden(self) -> bool:
        return is_hidden(self.rel)


def is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/") if part)


def root() -> Path:
    """The vault root, resolved; 503 when it is missing or not writable."""
    configured = Path(current_app.config["VAULT_PATH"])
    real = Path(os.path.realpath(configured))
    if not real.is_dir() or not os.access(real, os.W_OK | os.X_OK):
        raise Unavailable("Vault unavailable")
    return real


def _inside(real: str, base: str) -> bool:
    return real == base or real.startswith(base.rstrip("/") + "/")


def _decoded_forms(path: str) -> Iterator[str]:
    """The path, then what repeated percent-decoding makes of it (``%252e`` → ``%2e`` → ``.``)."""
    seen = path
    for _ in range(4):
        yield seen
        decoded = unquote(seen)
        if decoded == seen:
            return
        seen = decoded


def sandbox(path: str | None, field: str = "path") -> VaultPath:
    """The one gate between a client's path string and the file system."""
    if path is None:
        path = ""
    if not isinstance(path, str):
        raise field_error(field, "must be a string")
    if len(path) > MAX_PATH_CHARS:
        raise field_error(field, f"must be at most {MAX_PATH_CHARS} characters")
    for form in _decoded_forms(path):
        if "\x00" in form:
            raise Forbidden(OUTSIDE)
        # An encoded or backslashed ``..`` never names a file a person meant: it is an attack.
        encoded = form is not path or "\\" in form
        if encoded and any(seg == ".." for seg in form.replace("\\", "/").split("/")):
            raise Forbidden(OUTSIDE)
    base = root()
    rel = posixpath.normpath("/" + path.lstrip("/"))  # collapses ., .. and double slashes
    if _escapes(path):
        raise Forbidden(OUTSIDE)
    rel = rel.lstrip("/")
    target = base / rel if rel else base
    # realpath resolves every existing component (the longest existing prefix) and keeps the rest.
    real = os.path.realpath(target)
    if not _inside(real, str(base)):
        raise Forbidden(OUTSIDE)
    return VaultPath(target, rel)


def _escapes(path: str) -> bool:
    """True when the ``..`` segments of *path* climb above the root at any point."""
    depth = 0
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        depth += -1 if seg == ".." else 1
        if depth < 0:
            return True
    return False


def contains(real_path: str) -> bool:
    """Whether an already-resolved path lies inside the vault."""
    return _inside(os.path.realpath(real_path), str(root()))


def require_file(vp: VaultPath) -> os.stat_result:
    """Stat *vp* as a file: 404 when missing, 400 for a directory."""
    try:
        st = vp.abs.stat()
    except FileNotFoundError:
        raise NotFound("File not found") from None
    except NotADirectoryError:
        raise NotFound("File not found") from None
    if stat.S_ISDIR(st.st_mode):
        raise Invalid("Path is a directory", {"path": "must be a file, not a directory"})
    return st


def read_bytes(vp: VaultPath) -> bytes:
    with open(vp.abs, "rb") as fh:
        return fh.read()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileStat:
    rel: str
    abs: str
    size: int
    mtime_ns: int


def walk_files(start: VaultPath | None = None) -> Iterator[FileStat]:
    """Every non-hidden regular file under *start* (default: the root).

    Symlinked directories are not descended; a symlinked file is yielded only when it resolves
    inside the vault.
    """
    base = str(root())
    top = start.abs if start is not None else Path(base)
    prefix = start.rel + "/" if start is not None and start.rel else ""
    stack = [(str(top), prefix)]
    while stack:
        directory, rel_prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = rel_prefix + entry.name
            try:
                if entry.is_symlink():
                    if entry.is_dir() or not _inside(os.path.realpath(entry.path), base):
                        continue
                    st = os.stat(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                    continue
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                yield FileStat(rel, entry.path, st.st_size, st.st_mtime_ns)
