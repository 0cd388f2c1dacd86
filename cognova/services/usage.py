"""The token ledger (API.md §15): recording AI calls, listing them, and their statistics.

Everything is aggregated in PostgreSQL. The statistics are one statement: a single scan of the
window grouped by GROUPING SETS (bucket, source, source+name, total), joined to a
``generate_series`` of local-time buckets so empty hours and days come back as zeros.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.system import TokenUsage
from cognova.services.query import Page

SOURCES = ("chat", "agent", "memory_extraction")
PERIODS = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
UNNAMED = "(unnamed)"
BUCKET_KEY = {"chat": "chat", "agent": "agent", "memory_extraction": "memory"}


def record(
    source: str,
    source_id: str | None,
    source_name: str | None,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float,
    duration_ms: int | None = None,
    num_turns: int | None = None,
) -> TokenUsage:
    """Add one ledger row for an AI call to the current session; the caller commits."""
    if source not in SOURCES:
        raise ValueError(f"unknown usage source {source!r}")
    row = TokenUsage(
        id=uuid.uuid4(),
        source=source,
        source_id=None if source_id is None else str(source_id),
        source_name=None if source_name is None else str(source_name)[:500],
        input_tokens=max(0, int(input_tokens or 0)),
        output_tokens=max(0, int(output_tokens or 0)),
        cost_usd=max(0.0, float(cost_usd or 0.0)),
        duration_ms=None if duration_ms is None else int(duration_ms),
        num_turns=None if num_turns is None else int(num_turns),
        created_at=datetime.now(UTC),
    )
    db.session.add(row)
    return row


def window(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or datetime.now(UTC)
    return now - PERIODS[period], now


# ------------------------------------------------------------------ records


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_records(
    period: str = "7d",
    source: str | None = None,
    search: str | None = None,
    page: int = 1,
    limit: int = 20,
) -> Page:
    start, end = window(period)
    conditions = [TokenUsage.created_at >= start, TokenUsage.created_at <= end]
    if source:
        conditions.append(TokenUsage.source == source)
    if search:
        conditions.append(TokenUsage.source_name.ilike(f"%{_escape_like(search)}%", escape="\\"))
    total = db.session.scalar(sa.select(sa.func.count()).where(*conditions)) or 0
    # Page through the covering index alone, then read only the rows of this page.
    keys = (
        sa.select(TokenUsage.id, TokenUsage.created_at)
        .where(*conditions)
        .order_by(TokenUsage.created_at.desc(), TokenUsage.id.desc())
        .limit(limit)
        .offset((page - 1) * limit)
        .subquery()
    )
    rows = db.session.scalars(
        sa.select(TokenUsage)
        .join(keys, TokenUsage.id == keys.c.id)
        .order_by(keys.c.created_at.desc(), keys.c.id.desc())
    )
    return Page(list(rows), page, limit, total)


def record_json(row: TokenUsage) -> dict:
    from cognova.api.validation import iso_ms

    return {
        "id": str(row.id),
        "source": row.source,
        "sourceId": row.source_id,
        "sourceName": row.source_name,
        "inputTokens": row.input_tokens,
        "outputTokens": row.output_tokens,
        "costUsd": row.cost_usd,
        "durationMs": row.duration_ms,
        "numTurns": row.num_turns,
        "createdAt": iso_ms(row.created_at),
    }


# ------------------------------------------------------------------ statistics

_STATS_TEMPLATE = """
    WITH fine AS (
        SELECT GROUPING(source_name) AS per_bucket, bucket, source, source_name,
               count(*) AS calls,
               sum(cost_usd::float8) AS cost,
               sum(input_tokens::bigint) AS input_tokens,
               sum(output_tokens::bigint) AS output_tokens
        FROM (
            SELECT {row_bucket} AS bucket,
                   source, source_name, cost_usd, input_tokens, output_tokens
            FROM token_usage
            WHERE created_at >= :start AND created_at <= :end
        ) AS windowed
        GROUP BY GROUPING SETS ((bucket, source), (source, source_name))
    ),
    per_bucket AS (
        SELECT bucket,
               sum(cost) AS cost, sum(calls) AS calls,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               coalesce(sum(cost) FILTER (WHERE source = 'chat'), 0) AS chat,
               coalesce(sum(cost) FILTER (WHERE source = 'agent'), 0) AS agent,
               coalesce(sum(cost) FILTER (WHERE source = 'memory_extraction'), 0) AS memory
        FROM fine WHERE per_bucket = 1
        GROUP BY bucket
    ),
    series AS (
        SELECT CAST(generate_series(
            {edge_start}, {edge_end}, CAST(:step AS interval)
        ) AS {bucket_type}) AS bucket
    ),
    consumers AS (
        SELECT source, coalesce(source_name, :unnamed) AS name,
               sum(cost) AS cost, sum(calls) AS calls,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
        FROM fine WHERE per_bucket = 0
        GROUP BY 1, 2
        ORDER BY cost DESC, calls DESC, source, name
        LIMIT 10
    ),
    per_source AS (
        SELECT source, sum(cost) AS cost, sum(calls) AS calls,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
        FROM fine WHERE per_bucket = 1
        GROUP BY source
    )
    SELECT 'bucket' AS kind, s.bucket, NULL AS source, NULL AS name,
           coalesce(b.cost, 0) AS cost, coalesce(b.calls, 0) AS calls,
           coalesce(b.input_tokens, 0) AS input_tokens,
           coalesce(b.output_tokens, 0) AS output_tokens,
           coalesce(b.chat, 0) AS chat, coalesce(b.agent, 0) AS agent,
           coalesce(b.memory, 0) AS memory
    FROM series s LEFT JOIN per_bucket b ON b.bucket = s.bucket
    UNION ALL
    SELECT 'consumer', NULL, source, name, cost, calls, input_tokens, output_tokens, 0, 0, 0
    FROM consumers
    UNION ALL
    SELECT 'source', NULL, source, NULL, cost, calls, input_tokens, output_tokens, 0, 0, 0
    FROM per_source
    UNION ALL
    SELECT 'total', NULL, NULL, NULL, coalesce(sum(cost), 0), coalesce(sum(calls), 0),
           coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), 0, 0, 0
    FROM per_source
    ORDER BY 1, 2, 5 DESC, 6 DESC, 3, 4
    """


def _local(column: str) -> str:
    return f"(({column} AT TIME ZONE 'UTC') - make_interval(mins => :tz))"


# Daily buckets are local dates: a cast is much cheaper per row than date_trunc on 300k rows.
STATS_SQL = {
    "day": sa.text(
        _STATS_TEMPLATE.format(
            row_bucket=f"CAST({_local('created_at')} AS date)",
            edge_start=f"CAST({_local('CAST(:start AS timestamptz)')} AS date)",
            edge_end=f"CAST({_local('CAST(:end AS timestamptz)')} AS date)",
            bucket_type="date",
        )
    ),
    "hour": sa.text(
        _STATS_TEMPLATE.format(
            row_bucket=f"date_trunc('hour', {_local('created_at')})",
            edge_start=f"date_trunc('hour', {_local('CAST(:start AS timestamptz)')})",
            edge_end=f"date_trunc('hour', {_local('CAST(:end AS timestamptz)')})",
            bucket_type="timestamp",
        )
    ),
}

# One scan aggregated twice in memory: keep the plan on hash tables and skip JIT compilation,
# which costs more than it saves on a query of this size.
STATS_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")


@dataclass
class _Row:
    kind: str
    bucket: datetime | None
    source: str | None
    name: str | None
    cost: float
    calls: int
    input_tokens: int
    output_tokens: int
    chat: float
    agent: float
    memory: float


def stats(
    period: str = "7d",
    granularity: str = "daily",
    tz_offset: int = 0,
    now: datetime | None = None,
) -> dict:
    start, end = window(period, now)
    hourly = granularity == "hourly"
    params = {
        "step": "1 hour" if hourly else "1 day",
        "tz": int(tz_offset),
        "start": start,
        "end": end,
        "unnamed": UNNAMED,
    }
    for statement in STATS_SETTINGS:
        db.session.execute(sa.text(statement))
    sql = STATS_SQL["hour" if hourly else "day"]
    rows = [_Row(*r) for r in db.session.execute(sql, params)]
    date_format = "%Y-%m-%dT%H:00" if hourly else "%Y-%m-%d"

    buckets = [
        {
            "date": r.bucket.strftime(date_format),
            "chat": r.chat,
            "agent": r.agent,
            "memory": r.memory,
            "totalCost": r.cost,
            "inputTokens": int(r.input_tokens),
            "outputTokens": int(r.output_tokens),
            "calls": int(r.calls),
        }
        for r in rows
        if r.kind == "bucket"
    ]
    per_source = {r.source: r for r in rows if r.kind == "source"}
    by_source = [
        {
            "source": source,
            "cost": per_source[source].cost if source in per_source else 0.0,
            "calls": int(per_source[source].calls) if source in per_source else 0,
            "tokens": (
                int(per_source[source].input_tokens + per_source[source].output_tokens)
                if source in per_source
                else 0
            ),
        }
        for source in SOURCES
    ]
    top = [
        {
            "name": r.name,
            "source": r.source,
            "cost": r.cost,
            "calls": int(r.calls),
            "tokens": int(r.input_tokens + r.output_tokens),
        }
        for r in rows
        if r.kind == "consumer"
    ]
    total = next((r for r in rows if r.kind == "total"), None)
    calls = int(total.calls) if total else 0
    cost = total.cost if total else 0.0
    return {
        "totalCostUsd": cost,
        "totalInputTokens": int(total.input_tokens) if total else 0,
        "totalOutputTokens": int(total.output_tokens) if total else 0,
        "totalCalls": calls,
        "avgCostPerCall": cost / calls if calls else 0,
        "dailyUsage": buckets,
        "bySource": by_source,
        "topConsumers": top,
    }


# ------------------------------------------------------------------ reports

GROUPS = ("day", "source", "name")


def report(start: datetime, end: datetime, group_by: str = "day", tz_offset: int = 0) -> list[dict]:
    """Totals per day (local per *tz_offset*), per source or per (source, name) over
    [start, end], for the ``usage-report`` command. Days without calls are listed as zeros."""
    totals = """
        count(*) AS calls,
        coalesce(sum(input_tokens::bigint), 0)::bigint AS input_tokens,
        coalesce(sum(output_tokens::bigint), 0)::bigint AS output_tokens,
        coalesce(sum(cost_usd::float8), 0) AS cost_usd
    """
    zero = """
        coalesce(a.calls, 0) AS calls,
        coalesce(a.input_tokens, 0) AS input_tokens,
        coalesce(a.output_tokens, 0) AS output_tokens,
        coalesce(a.cost_usd, 0) AS cost_usd
    """
    in_window = "created_at >= :start AND created_at <= :end"
    if group_by == "day":
        sql = f"""
            WITH a AS (
                SELECT date_trunc('day', (created_at AT TIME ZONE 'UTC')
                                         - make_interval(mins => :tz)) AS day, {totals}
                FROM token_usage WHERE {in_window} GROUP BY 1
            )
            SELECT to_char(d.day, 'YYYY-MM-DD') AS day, {zero}
            FROM generate_series(
                date_trunc('day', (CAST(:start AS timestamptz) AT TIME ZONE 'UTC')
                                  - make_interval(mins => :tz)),
                date_trunc('day', (CAST(:end AS timestamptz) AT TIME ZONE 'UTC')
                                  - make_interval(mins => :tz)),
                interval '1 day') AS d(day)
            LEFT JOIN a ON a.day = d.day
            ORDER BY d.day
        """
    elif group_by == "source":
        sql = f"""
            WITH a AS (
                SELECT source, {totals} FROM token_usage WHERE {in_window} GROUP BY 1
            )
            SELECT s.source, {zero}
            FROM unnest(CAST(:sources AS text[])) WITH ORDINALITY AS s(source, ord)
            LEFT JOIN a ON a.source = s.source
            ORDER BY s.ord
        """
    elif group_by == "name":
        sql = f"""
            SELECT source, coalesce(source_name, :unnamed) AS name, {totals}
            FROM token_usage WHERE {in_window}
            GROUP BY 1, 2 ORDER BY cost_usd DESC, calls DESC, 1, 2
        """
    else:
        raise ValueError(f"unknown grouping {group_by!r}")
    for statement in STATS_SETTINGS:
        db.session.execute(sa.text(statement))
    params = {
        "start": start,
        "end": end,
        "tz": int(tz_offset),
        "sources": list(SOURCES),
        "unnamed": UNNAMED,
    }
    result = db.session.execute(sa.text(sql), params)
    return [dict(row._mapping) for row in result]
