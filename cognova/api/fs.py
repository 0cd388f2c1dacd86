"""The vault file system (API.md §8): thin handlers over ``services/fs``."""

from __future__ import annotations

from flask import g

from cognova.api.spec import ApiBlueprint, ok
from cognova.schemas import fs as schemas
from cognova.services import fs

bp = ApiBlueprint("fs", __name__, tag="File system")

ERRORS = (400, 403, 404, 503)


def _actor() -> str | None:
    return g.auth.user.id if g.get("auth") and g.auth.user else None


@bp.endpoint(
    "GET",
    "/fs/list",
    nul="keep",
    summary="List a vault directory",
    query=schemas.ListQuery,
    response=[schemas.FileEntry],
    errors=ERRORS,
)
def list_files(query: schemas.ListQuery):
    """Directories first, then files, each sorted case-insensitively; hidden entries omitted."""
    return ok(fs.list_entries(query.path, query.recursive))


@bp.endpoint(
    "POST",
    "/fs/read",
    nul="keep",
    summary="Read a file",
    body=schemas.PathBody,
    response=schemas.ReadResult,
    errors=ERRORS,
)
def read_file(body: schemas.PathBody):
    return ok(fs.read(body.path))


@bp.endpoint(
    "POST",
    "/fs/write",
    nul="keep",
    summary="Write a file atomically",
    body=schemas.WriteBody,
    response=schemas.WriteResult,
    errors=(*ERRORS, 413),
)
def write_file(body: schemas.WriteBody):
    return ok(fs.write(body.path, body.content, body.encoding, _actor()))


@bp.endpoint(
    "POST",
    "/fs/mkdir",
    nul="keep",
    summary="Create a directory (and its parents)",
    body=schemas.PathBody,
    response=schemas.MkdirResult,
    errors=(*ERRORS, 409),
)
def make_directory(body: schemas.PathBody):
    return ok(fs.mkdir(body.path))


@bp.endpoint(
    "POST",
    "/fs/rename",
    nul="keep",
    summary="Rename a file or directory",
    body=schemas.RenameBody,
    response=schemas.RenameResult,
    errors=(*ERRORS, 409),
)
def rename_path(body: schemas.RenameBody):
    return ok(fs.rename(body.old_path, body.new_path, _actor()))


@bp.endpoint(
    "POST",
    "/fs/delete",
    nul="keep",
    summary="Delete a file or directory (recursively)",
    body=schemas.PathBody,
    response=schemas.DeleteResult,
    errors=ERRORS,
)
def delete_path(body: schemas.PathBody):
    return ok(fs.delete(body.path, _actor()))


@bp.endpoint(
    "POST",
    "/fs/move",
    nul="keep",
    summary="Move a file or directory into another directory",
    body=schemas.MoveBody,
    response=schemas.MoveResult,
    errors=(*ERRORS, 409),
)
def move_path(body: schemas.MoveBody):
    return ok(fs.move(body.source_path, body.destination_path, _actor()))
