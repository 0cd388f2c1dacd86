"""The vault file-system API (API.md §8): bodies, queries and results."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from cognova.api.validation import ApiModel, Body, QBool, Query, Timestamp

# Untrimmed: a path may legitimately end in a space. Length is checked by the sandbox too.
PathIn = Annotated[str, StringConstraints(max_length=4096)]


class ListQuery(Query):
    path: PathIn = "/"
    recursive: QBool = False


class PathBody(Body):
    path: PathIn


class WriteBody(Body):
    path: PathIn
    content: str
    encoding: Literal["utf-8", "base64"] = "utf-8"


class RenameBody(Body):
    old_path: PathIn
    new_path: PathIn


class MoveBody(Body):
    source_path: PathIn
    destination_path: PathIn


class FileEntry(ApiModel):
    name: str
    path: str
    type: Literal["file", "directory"]
    size: int | None
    modified_at: Timestamp
    children: list[FileEntry] | None = None


class ReadResult(ApiModel):
    path: str
    content: str
    encoding: Literal["utf-8", "base64"]
    size: int
    modified_at: Timestamp
    content_hash: str


class WriteResult(ApiModel):
    path: str
    created: bool
    size: int
    content_hash: str


class MkdirResult(ApiModel):
    path: str
    created: bool


class RenameResult(ApiModel):
    old_path: str
    new_path: str


class DeleteResult(ApiModel):
    path: str
    deleted: bool


class MoveResult(ApiModel):
    old_path: str
    new_path: str
    moved: bool
