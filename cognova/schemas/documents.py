"""Documents (API.md §7): what a client may send and what it gets back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cognova.api.validation import (
    ApiModel,
    Body,
    Page,
    QBool,
    Query,
    Tags,
    Text,
    Timestamp,
    Uuid,
    UuidStr,
    limit_param,
)

Kind = Literal["markdown", "text", "binary"]
ShareType = Literal["public", "private"]


class DocumentProject(ApiModel):
    id: UuidStr
    name: str
    color: str


class DocumentOut(ApiModel):
    id: UuidStr
    title: str
    path: str
    file_type: str
    kind: Kind
    mime_type: str | None
    content_hash: str | None
    tags: list[str]
    project_id: UuidStr | None
    project: DocumentProject | None
    shared: bool
    share_type: ShareType | None
    synced_at: Timestamp | None
    modified_at: Timestamp | None
    deleted_at: Timestamp | None
    created_at: Timestamp
    created_by: str | None
    modified_by: str | None
    deleted_by: str | None


class DocumentView(ApiModel):
    document: DocumentOut
    metadata: dict[str, Any]
    body: str
    frontmatter_error: str | None = Field(
        default=None,
        description="Markdown only: why the frontmatter was ignored (invalid YAML), else null.",
    )


class DocumentQuery(Query):
    page: Page = 1
    limit: limit_param(100, 500)
    project_id: Uuid | None = None
    file_type: str | None = None
    kind: Kind | None = None
    tag: list[str] = Field(default_factory=list)
    shared: QBool | None = None
    search: str | None = None
    include_deleted: QBool = False


class GetQuery(Query):
    include_deleted: QBool = False


class ByPathBody(Body):
    path: Text(0, 4096, trim=False)


class DocumentUpdate(Body):
    title: Text(1, 500) = None
    tags: Tags = None
    project_id: Uuid | None = None
    shared: bool = None
    share_type: ShareType | None = None
    body: str = None
    expected_hash: str | None = None


class PublicDocument(ApiModel):
    id: UuidStr
    title: str
    path: str
    file_type: str
    kind: Kind
    mime_type: str | None
    shared: bool
    share_type: ShareType | None
    tags: list[str]
    created_at: Timestamp
    modified_at: Timestamp | None
    creator_name: str | None


class PublicView(ApiModel):
    document: PublicDocument
    content: str | None
    is_owner: bool


class SyncQuery(Query):
    wait: QBool = False


class SyncStarted(ApiModel):
    job_id: UuidStr


class SyncResult(ApiModel):
    job_id: UuidStr
    scanned: int
    created: int
    updated: int
    unchanged: int
    deleted: int


class SyncCounts(ApiModel):
    scanned: int
    created: int
    updated: int
    unchanged: int
    deleted: int


class JobOut(ApiModel):
    id: UuidStr
    type: Literal["memory_extraction", "document_sync"]
    status: Literal["queued", "running", "succeeded", "failed"]
    result: SyncCounts | None
    error: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
