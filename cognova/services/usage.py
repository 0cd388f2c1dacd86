"""The token ledger (API.md §15): recording AI calls, listing them, and their statistics.

Everything is aggregated in PostgreSQL. The statistics scan the window once, in slices that run
at the same time on their own connections, each grouped by GROUPING SETS ((bucket, source),
(source, name)); the few hundred groups are merged here into zero-filled local-time buckets,
per-source totals and the top consumers.
"""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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

# One scan of a slice of the window, aggregated twice in memory: per (bucket, source) for the
# chart and the per-source totals, and per (source, name) for the top consumers. Buckets are
# local times: ``created_at`` in UTC minus the caller's offset (JavaScript's getTimezoneOffset
# convention: minutes to add to local time to get UTC).
_SLICE_SQL = """
    SELECT GROUPING(source_name) = 1 AS per_bucket, {bucket} AS bucket, source, source_name,
           count(*) AS calls,
           coalesce(sum(cost_usd::float8), 0) AS cost,
           coalesce(sum(input_tokens), 0) AS input_tokens,
           coalesce(sum(output_tokens), 0) AS output_tokens
    FROM token_usage
    WHERE created_at >= :low AND created_at {upper} :high
    GROUP BY GROUPING SETS ((2, source), (source, source_name))
"""
_LOCAL = "((created_at AT TIME ZONE 'UTC') - make_interval(mins => :tz))"
# Daily buckets are local dates: a cast is much cheaper per row than date_trunc.
_BUCKETS = {
    "day": f"CAST({_LOCAL} AS date)",
    "hour": f"date_trunc('hour', {_LOCAL})",
}
SLICE_SQL = {
    (unit, last): sa.text(_SLICE_SQL.format(bucket=bucket, upper="<=" if last else "<"))
    for unit, bucket in _BUCKETS.items()
    for last in (False, True)
}

# Hash aggregation over a few hundred thousand rows: keep the plan in memory and skip JIT
# compilation, which costs more than it saves on a query of this size.
STATS_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")
# The window is cut at a bucket boundary into slices aggregated at the same time on their own
# connections (PostgreSQL runs one query on one core), then merged here: a slice's buckets are
# its own, and its per-source and per-name sums add up.
STATS_SLICES = 2


@dataclass
class _Group:
    per_bucket: bool
    bucket: date | datetime | None
    source: str
    name: str | None
    calls: int
    cost: float
    input_tokens: int
    output_tokens: int


@dataclass
class _Totals:
    calls: int = 0
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, group: _Group) -> None:
        self.calls += group.calls
        self.cost += group.cost
        self.input_tokens += group.input_tokens
        self.output_tokens += group.output_tokens


def _to_local(moment: datetime, tz_offset: int) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) - timedelta(minutes=tz_offset)


def _bucket_of(local: datetime, hourly: bool) -> date | datetime:
    return local.replace(minute=0, second=0, microsecond=0) if hourly else local.date()


def _series(start: datetime, end: datetime, hourly: bool, tz_offset: int) -> list:
    """Every local bucket from the one holding *start* to the one holding *end*."""
    first = _bucket_of(_to_local(start, tz_offset), hourly)
    last = _bucket_of(_to_local(end, tz_offset), hourly)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    out = []
    while first <= last:
        out.append(first)
        first += step
    return out


def _cuts(buckets: list, hourly: bool, tz_offset: int, slices: int) -> list[datetime]:
    """UTC instants at bucket boundaries that split the window into *slices* parts."""
    cuts = []
    for i in range(1, slices):
        boundary = buckets[len(buckets) * i // slices]
        if not hourly:
            boundary = datetime.combine(boundary, datetime.min.time())
        cuts.append((boundary + timedelta(minutes=tz_offset)).replace(tzinfo=UTC))
    return cuts


def _aggregate_slice(engine, unit: str, low: datetime, high: datetime, last: bool, tz: int):
    with engine.connect() as conn, conn.begin():
        for statement in STATS_SETTINGS:
            conn.execute(sa.text(statement))
        params = {"low": low, "high": high, "tz": tz}
        return [_Group(*row) for row in conn.execute(SLICE_SQL[unit, last], params)]


def _groups(start: datetime, end: datetime, hourly: bool, tz: int, buckets: list) -> list[_Group]:
    """The aggregated groups of the window, its slices computed concurrently."""
    slices = STATS_SLICES if len(buckets) >= STATS_SLICES * 2 else 1
    edges = [start, *_cuts(buckets, hourly, tz, slices), end]
    unit = "hour" if hourly else "day"
    engine = db.engine
    jobs = [
        (engine, unit, low, high, i == len(edges) - 2, tz)
        for i, (low, high) in enumerate(itertools.pairwise(edges))
    ]
    if len(jobs) == 1:
        return _aggregate_slice(*jobs[0])
    with ThreadPoolExecutor(len(jobs) - 1) as pool:
        others = [pool.submit(_aggregate_slice, *job) for job in jobs[1:]]
        groups = _aggregate_slice(*jobs[0])
        for future in others:
            groups.extend(future.result())
    return groups


def stats(
    period: str = "7d",
    granularity: str = "daily",
    tz_offset: int = 0,
    now: datetime | None = None,
) -> dict:
    start, end = window(period, now)
    hourly = granularity == "hourly"
    tz = int(tz_offset)
    buckets = _series(start, end, hourly, tz)
    costs_by_source = dict.fromkeys(BUCKET_KEY.values(), 0.0)
    per_bucket = {bucket: (_Totals(), dict(costs_by_source)) for bucket in buckets}
    per_source = {source: _Totals() for source in SOURCES}
    per_name: dict[tuple[str, str], _Totals] = {}
    for group in _groups(start, end, hourly, tz, buckets):
        if group.per_bucket:
            totals, costs = per_bucket[group.bucket]
            totals.add(group)
            costs[BUCKET_KEY[group.source]] += group.cost
            per_source[group.source].add(group)
        else:
            key = (group.source, UNNAMED if group.name is None else group.name)
            per_name.setdefault(key, _Totals()).add(group)
    total = _Totals()
    for totals in per_source.values():
        total.calls += totals.calls
        total.cost += totals.cost
        total.input_tokens += totals.input_tokens
        total.output_tokens += totals.output_tokens
    date_format = "%Y-%m-%dT%H:00" if hourly else "%Y-%m-%d"
    top = sorted(per_name.items(), key=lambda item: (-item[1].cost, -item[1].calls, item[0]))
    return {
        "totalCostUsd": total.cost,
        "totalInputTokens": total.input_tokens,
        "totalOutputTokens": total.output_tokens,
        "totalCalls": total.calls,
        "avgCostPerCall": total.cost / total.calls if total.calls else 0,
        "dailyUsage": [
            {
                "date": bucket.strftime(date_format),
                **costs,
                "totalCost": totals.cost,
                "inputTokens": totals.input_tokens,
                "outputTokens": totals.output_tokens,
                "calls": totals.calls,
            }
            for bucket, (totals, costs) in per_bucket.items()
        ],
        "bySource": [
            {
                "source": source,
                "cost": totals.cost,
                "calls": totals.calls,
                "tokens": totals.input_tokens + totals.output_tokens,
            }
            for source, totals in per_source.items()
        ],
        "topConsumers": [
            {
                "name": name,
                "source": source,
                "cost": totals.cost,
                "calls": totals.calls,
                "tokens": totals.input_tokens + totals.output_tokens,
            }
            for (source, name), totals in top[:10]
        ],
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
