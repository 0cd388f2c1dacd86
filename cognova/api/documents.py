"""Documents (API.md §7): thin handlers over ``services/documents`` and the sync job."""

from __future__ import annotations

from flask import g, request

from cognova.api.spec import ApiBlueprint, ok, paginated
from cognova.api.validation import iso_ms
from cognova.jobs import documents as sync_jobs
from cognova.schemas import documents as schemas
from cognova.security import resolve
from cognova.services import documents

bp = ApiBlueprint("documents", __name__, tag="Documents")


def _actor() -> str | None:
    return g.auth.user.id if g.get("auth") and g.auth.user else None


def _view(view: documents.View):
    response = ok(view.data)
    if view.etag:
        response.headers["ETag"] = f'"{view.etag}"'
    return response


@bp.endpoint(
    "GET",
    "/documents",
    summary="List documents",
    query=schemas.DocumentQuery,
    response=schemas.DocumentOut,
    envelope="paginated",
)
def list_documents(query: schemas.DocumentQuery):
    """Newest first (by modification, else creation), then by path. ``search`` matches the
    full-text index or a case-insensitive substring of title, path or content."""
    items, total = documents.list_documents(
        page=query.page,
        limit=query.limit,
        project_id=query.project_id,
        file_type=query.file_type,
        kind_filter=query.kind,
        tags=[t.strip() for t in query.tag if t.strip()],
        shared=query.shared,
        search_text=query.search,
        include_deleted=query.include_deleted,
    )
    return paginated(items, query.page, query.limit, total)


@bp.endpoint(
    "POST",
    "/documents/by-path",
    nul="keep",
    summary="Open (and sync) the document at a vault path",
    body=schemas.ByPathBody,
    response=schemas.DocumentView,
    errors=(403, 404, 413, 503),
)
def open_document_by_path(body: schemas.ByPathBody):
    return _view(documents.open_by_path(body.path, _actor()))


@bp.endpoint(
    "POST",
    "/documents/sync",
    summary="Start a full vault re-sync",
    query=schemas.SyncQuery,
    response=schemas.SyncStarted,
    status=202,
    extra_responses={
        200: {
            "description": "OK (with wait=true, when the sync finished in time)",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["data"],
                        "properties": {"data": schemas.SyncResult.model_json_schema(by_alias=True)},
                    }
                }
            },
        }
    },
)
def sync_documents(query: schemas.SyncQuery):
    job_id = sync_jobs.start_sync()
    if query.wait:
        state = sync_jobs.wait_for(job_id, 60.0)
        if state["status"] == "succeeded" and state["result"] is not None:
            return ok({"jobId": job_id, **state["result"]})
    return ok({"jobId": job_id}, 202)


@bp.endpoint(
    "GET",
    "/documents/sync/<jobId>",
    summary="Status of a vault sync job",
    response=schemas.JobOut,
    errors=(404,),
)
def get_sync_job(jobId: str):
    state = sync_jobs.describe(jobId)
    for key in ("createdAt", "startedAt", "finishedAt"):
        state[key] = iso_ms(state[key])
    return ok(state)


@bp.endpoint(
    "GET",
    "/documents/<id>",
    summary="Get a document (re-read from disk)",
    query=schemas.GetQuery,
    response=schemas.DocumentView,
    errors=(403, 404, 413, 503),
)
def get_document(id: str, query: schemas.GetQuery):
    return _view(documents.get_document(id, _actor(), query.include_deleted))


@bp.endpoint(
    "PUT",
    "/documents/<id>",
    summary="Update a document (body and frontmatter are written to the file)",
    body=schemas.DocumentUpdate,
    response=schemas.DocumentView,
    errors=(403, 404, 409, 413, 503),
)
def update_document(id: str, body: schemas.DocumentUpdate):
    """``If-Match`` or ``expectedHash``: the hash the client last saw; a different file on
    disk → 409 "Document changed on disk" and nothing is written."""
    view = documents.update_document(id, body.given(), _actor(), request.headers.get("If-Match"))
    return _view(view)


@bp.endpoint(
    "DELETE",
    "/documents/<id>",
    summary="Delete a document (file removed, row kept)",
    response=schemas.DocumentOut,
    errors=(403, 404, 503),
)
def delete_document(id: str):
    return ok(documents.delete_document(id, _actor()))


@bp.endpoint(
    "POST",
    "/documents/<id>/restore",
    summary="Restore a deleted document (file recreated)",
    response=schemas.DocumentOut,
    errors=(403, 404, 409, 503),
)
def restore_document(id: str):
    return ok(documents.restore_document(id, _actor()))


@bp.endpoint(
    "GET",
    "/documents/<id>/public",
    summary="A shared document, for anyone with the link",
    response=schemas.PublicView,
    errors=(403, 404),
    public=True,
)
def get_public_document(id: str):
    view = documents.public_view(id, is_owner=resolve().user is not None)
    response = ok(view.data)
    if view.private:
        response.headers["X-Robots-Tag"] = "noindex"
    return response
