"""Token and cost tracking (API.md §15)."""

from __future__ import annotations

from cognova.api.spec import ApiBlueprint, ok, paginated
from cognova.schemas.usage import UsageListQuery, UsageRecord, UsageStats, UsageStatsQuery
from cognova.services import usage as usage_service

bp = ApiBlueprint("usage", __name__, tag="Usage")


@bp.endpoint(
    "GET",
    "/usage",
    summary="Usage records, newest first",
    query=UsageListQuery,
    response=UsageRecord,
    envelope="paginated",
)
def list_usage(query: UsageListQuery):
    result = usage_service.list_records(
        query.period, query.source, query.search, query.page, query.limit
    )
    items = [usage_service.record_json(row) for row in result.items]
    return paginated(items, result.page, result.limit, result.total)


@bp.endpoint(
    "GET",
    "/usage/stats",
    summary="Totals, cost over time, by source and top consumers",
    query=UsageStatsQuery,
    response=UsageStats,
)
def usage_stats(query: UsageStatsQuery):
    return ok(usage_service.stats(query.period, query.granularity, query.tz_offset))
