"""Search (API.md §18)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cognova.api.validation import ApiModel, Query, Text, limit_param

SearchType = Literal["task", "document", "memory", "agent", "conversation"]


class SearchQuery(Query):
    q: Text(1, 500)
    types: list[str] = Field(default_factory=list)
    limit: limit_param(20, 50)


class SearchHit(ApiModel):
    type: SearchType
    id: str
    title: str
    snippet: str = Field(description="HTML-escaped plain text; matched terms in <mark>.")
    score: float
    url: str
