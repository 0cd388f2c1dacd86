"""Search across documents, tasks and the other searchable types (API.md §18)."""

from __future__ import annotations

from cognova.api.errors import ApiError
from cognova.api.spec import ApiBlueprint, ok
from cognova.api.validation import split_enum_list
from cognova.schemas import search as schemas
from cognova.services import search

bp = ApiBlueprint("search", __name__, tag="Search")


@bp.endpoint(
    "GET",
    "/search",
    summary="Full-text search",
    query=schemas.SearchQuery,
    response=[schemas.SearchHit],
)
def search_everything(query: schemas.SearchQuery):
    """Hits of every requested type merged by score, then most recent first."""
    types = split_enum_list(query.types)
    unknown = [t for t in types if t not in search.TYPES]
    if unknown:
        raise ApiError(
            400, "Validation failed", {"types": "must be one of: " + ", ".join(search.TYPES)}
        )
    return ok(search.search(query.q, types or None, query.limit))
