"""Memory (API.md §12): the Memory and Job objects, what a client may send, the list queries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from cognova.api.validation import (
    ApiModel,
    Body,
    DateTimeIn,
    Page,
    QBool,
    QNumber,
    Query,
    Text,
    Timestamp,
    UuidStr,
    limit_param,
    split_enum_list,
)

CHUNK_TYPES = ("decision", "fact", "solution", "pattern", "preference", "summary")
ChunkType = Literal["decision", "fact", "solution", "pattern", "preference", "summary"]

Content = Text(1, 2000)
SessionId = Annotated[str, StringConstraints(max_length=255)] | None
ProjectPath = Annotated[str, StringConstraints(max_length=1000)] | None
Relevance = Annotated[float, Field(ge=0, le=1)]


class MemoryOut(ApiModel):
    id: UuidStr
    session_id: str | None
    project_path: str | None
    chunk_type: str
    content: str
    source_excerpt: str | None
    relevance_score: float
    access_count: int
    last_accessed_at: Timestamp | None
    expires_at: Timestamp | None
    created_at: Timestamp


class MemoryStore(Body):
    content: Content
    chunk_type: ChunkType
    session_id: SessionId = None
    project_path: ProjectPath = None
    source_excerpt: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    relevance_score: Relevance = 0.9
    expires_at: DateTimeIn | None = None


class MemoryUpdate(Body):
    content: Content = None
    chunk_type: ChunkType = None
    relevance_score: Relevance = None
    expires_at: DateTimeIn | None = None


class MemoryExtract(Body):
    transcript: Annotated[str, StringConstraints(max_length=5_000_000)] | None = None
    transcript_path: Annotated[str, StringConstraints(max_length=4096)] | None = None
    session_id: SessionId = None
    project_path: ProjectPath = None


class ExtractQuery(Query):
    wait: QBool = False


def _chunk_types(values: list[str]) -> list[str]:
    types = split_enum_list(values)
    for value in types:
        if value not in CHUNK_TYPES:
            raise PydanticCustomError("enum", "must be one of: " + ", ".join(CHUNK_TYPES))
    return list(dict.fromkeys(types))


def _unit(value: float) -> float:
    if not 0 <= value <= 1:
        raise PydanticCustomError("range", "must be between 0 and 1")
    return value


class MemoryQuery(Query):
    query: str | None = None
    project_path: str | None = None
    chunk_type: Annotated[list[str], AfterValidator(_chunk_types)] = Field(default_factory=list)
    min_relevance: Annotated[QNumber, AfterValidator(_unit)] | None = None
    include_expired: QBool = False
    page: Page = 1
    limit: limit_param(20, 100)


class ContextQuery(Query):
    project: str | None = None
    limit: limit_param(5, 20)


class MemoryContext(ApiModel):
    memories: list[MemoryOut]
    formatted: str


class MemoryDeleted(ApiModel):
    id: UuidStr
    deleted: bool


class JobAccepted(ApiModel):
    job_id: UuidStr


class JobOut(ApiModel):
    id: UuidStr
    type: Literal["memory_extraction", "document_sync"]
    status: Literal["queued", "running", "succeeded", "failed"]
    result: dict[str, Any] | None
    error: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


# What Claude is forced to call: the structured output of an extraction (API.md §12.4).
SAVE_MEMORIES_TOOL = {
    "name": "save_memories",
    "description": (
        "Save the durable memories worth keeping from this transcript: decisions, facts, "
        "solutions, patterns, preferences and summaries. Each memory is one concise statement "
        "of at most 100 characters. Save nothing if nothing is worth remembering."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "memories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": list(CHUNK_TYPES)},
                        "content": {"type": "string", "maxLength": 100},
                        "relevance": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                    "required": ["type", "content", "relevance"],
                },
            }
        },
        "required": ["memories"],
    },
}
