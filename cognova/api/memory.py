"""Memory (API.md §12): list and search, context, store, extraction jobs, single memories."""

from __future__ import annotations

from cognova.api.spec import ApiBlueprint, ok, paginated
from cognova.api.validation import require_fields
from cognova.extensions import db
from cognova.schemas.memory import (
    ContextQuery,
    ExtractQuery,
    JobAccepted,
    JobOut,
    MemoryContext,
    MemoryDeleted,
    MemoryExtract,
    MemoryOut,
    MemoryQuery,
    MemoryStore,
    MemoryUpdate,
)
from cognova.services import memory, memory_extraction

bp = ApiBlueprint("memory", __name__, tag="Memory")


def _list(query: MemoryQuery, count_access: bool):
    result = memory.search(
        query=query.query,
        project_path=query.project_path,
        chunk_types=query.chunk_type,
        min_relevance=query.min_relevance,
        include_expired=query.include_expired,
        page=query.page,
        limit=query.limit,
        count_access=count_access,
    )
    items = [memory.serialize(row) for row in result.items]
    db.session.commit()
    return paginated(items, result.page, result.limit, result.total)


@bp.endpoint(
    "GET",
    "/memory",
    summary="List memories",
    query=MemoryQuery,
    response=MemoryOut,
    envelope="paginated",
)
def list_memories(query: MemoryQuery):
    """Newest first; with a ``query``, ranked by match, relevance and recency, counting access."""
    return _list(query, count_access=bool((query.query or "").strip()))


@bp.endpoint(
    "GET",
    "/memory/search",
    summary="Search memories (counts access)",
    query=MemoryQuery,
    response=MemoryOut,
    envelope="paginated",
)
def search_memories(query: MemoryQuery):
    return _list(query, count_access=True)


@bp.endpoint(
    "GET",
    "/memory/context",
    summary="Memories formatted for Claude's context",
    query=ContextQuery,
    response=MemoryContext,
)
def memory_context(query: ContextQuery):
    rows, formatted = memory.context(query.project, query.limit)
    data = {"memories": [memory.serialize(row) for row in rows], "formatted": formatted}
    db.session.commit()
    return ok(data)


@bp.endpoint(
    "POST",
    "/memory/store",
    summary="Store a memory (a duplicate returns the existing one)",
    body=MemoryStore,
    response=MemoryOut,
    status=201,
    extra_responses={200: {"description": "Duplicate: the existing memory, unchanged"}},
)
def store_memory(body: MemoryStore):
    row, created = memory.store(
        body.content,
        body.chunk_type,
        session_id=body.session_id,
        project_path=body.project_path,
        source_excerpt=body.source_excerpt,
        relevance_score=body.relevance_score,
        expires_at=body.expires_at,
    )
    data = memory.serialize(row)
    db.session.commit()
    return ok(data, 201 if created else 200)


@bp.endpoint(
    "POST",
    "/memory/extract",
    summary="Extract memories from a transcript",
    query=ExtractQuery,
    body=MemoryExtract,
    response=JobAccepted,
    status=202,
    errors=(403, 404, 502, 503),
    extra_responses={200: {"description": "With wait=true: the memories stored"}},
)
def extract_memories(query: ExtractQuery, body: MemoryExtract):
    """Queues an extraction job; ``?wait=true`` waits up to 60 s for its result."""
    transcript, path = memory_extraction.check_request(body.transcript, body.transcript_path)
    job = memory_extraction.enqueue(transcript, path, body.session_id, body.project_path)
    if query.wait:
        status = memory_extraction.wait(job, 60.0)
        if status == "succeeded":
            result = job.return_value() or {}
            return ok(result.get("memories", []), message=result.get("message", ""))
        if status == "failed":
            from cognova.api.errors import ApiError

            raise ApiError(502, memory_extraction.job_error(job))
    return ok({"jobId": job.id}, 202)


@bp.endpoint(
    "GET",
    "/memory/jobs/<jobId>",
    summary="An extraction job's status and result",
    response=JobOut,
    errors=(404,),
)
def get_memory_job(jobId: str):
    job = memory_extraction.fetch(jobId)
    return ok(
        JobOut.model_validate(memory_extraction.describe(job)).model_dump(
            mode="json", by_alias=True
        )
    )


@bp.endpoint("GET", "/memory/<id>", summary="One memory", response=MemoryOut, errors=(404,))
def get_memory(id: str):
    return ok(memory.serialize(memory.get(id)))


@bp.endpoint(
    "PATCH",
    "/memory/<id>",
    summary="Change a memory",
    body=MemoryUpdate,
    response=MemoryOut,
    errors=(404,),
)
def update_memory(id: str, body: MemoryUpdate):
    row = memory.update(id, require_fields(body))
    data = memory.serialize(row)
    db.session.commit()
    return ok(data)


@bp.endpoint(
    "DELETE", "/memory/<id>", summary="Delete a memory", response=MemoryDeleted, errors=(404,)
)
def delete_memory(id: str):
    ident = memory.delete(id)
    db.session.commit()
    return ok({"id": str(ident), "deleted": True})
