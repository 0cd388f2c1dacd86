"""The token ledger (API.md §15): recording AI calls, listing them, and their statistics.

Everything is aggregated in PostgreSQL. The statistics group the window's rows by (local bucket,
source, name), in parts that run at the same time on their own connections, with the groups of
long-finished days kept in Redis; the groups are merged here into zero-filled buckets,
per-source totals and the top consumers.
"""

from __future__ import annotations

import itertools
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from cognova.extensions import db, redis_client, redis_key
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

# One scan of a part of the window. Daily: grouped by (bucket, source, name), the unit the
# cache of finished days keeps. Hourly (never cached): grouped twice in one pass, by (bucket,
# source) for the chart and by (source, name) for the top consumers, which keeps the rows few.
# ``level`` says what a row counts towards: 0 both, 1 its bucket only, 2 its name only.
# Buckets are local times: ``created_at`` in UTC minus the caller's offset (JavaScript's
# getTimezoneOffset convention: minutes to add to local time to get UTC).
_RANGE_SQL = """
    SELECT {level} AS level, {bucket} AS bucket, source, source_name,
           count(*) AS calls,
           coalesce(sum(cost_usd::float8), 0) AS cost,
           coalesce(sum(input_tokens), 0) AS input_tokens,
           coalesce(sum(output_tokens), 0) AS output_tokens
    FROM token_usage
    WHERE created_at >= :low AND created_at {upper} :high
    GROUP BY {grouping}
"""
_LOCAL = "((created_at AT TIME ZONE 'UTC') - make_interval(mins => :tz))"
_SHAPES = {
    # daily buckets are local dates: a cast is much cheaper per row than date_trunc
    "day": ("0", f"CAST({_LOCAL} AS date)", "2, 3, 4"),
    "hour": (
        "CASE WHEN GROUPING(source_name) = 1 THEN 1 ELSE 2 END",
        f"date_trunc('hour', {_LOCAL})",
        "GROUPING SETS ((2, source), (source, source_name))",
    ),
}
RANGE_SQL = {
    (unit, last): sa.text(
        _RANGE_SQL.format(
            level=level, bucket=bucket, grouping=grouping, upper="<=" if last else "<"
        )
    )
    for unit, (level, bucket, grouping) in _SHAPES.items()
    for last in (False, True)
}

# Hash aggregation over a few hundred thousand rows: keep the plan in memory and skip JIT
# compilation, which costs more than it saves on a query of this size.
STATS_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")
# Parts of the window are aggregated at the same time on their own connections (PostgreSQL
# runs one query on one core): a long run of buckets is cut into this many slices.
STATS_SLICES = 2
# Ledger rows are stamped with the time they are recorded, so a local day that ended a while
# ago never changes: its groups are kept in Redis (per time-zone offset) and a daily window reads
# from the table only the days it cuts (the first and today) and days not cached yet. The margin
# covers a row recorded just before midnight and committed just after.
DAY_CACHE_SETTLE = timedelta(minutes=10)
DAY_CACHE_TTL = int(timedelta(days=100).total_seconds())


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


def _utc_start(bucket: date | datetime, tz_offset: int) -> datetime:
    """The UTC instant a local bucket begins."""
    if not isinstance(bucket, datetime):
        bucket = datetime.combine(bucket, datetime.min.time())
    return (bucket + timedelta(minutes=tz_offset)).replace(tzinfo=UTC)


def _day_key(day: date, tz_offset: int) -> str:
    return redis_key("usage", "day", str(tz_offset), day.isoformat())


def _cached_days(days: list[date], tz: int) -> dict[date, list]:
    """The groups of each cached day: [source, name, calls, cost, input, output] lists."""
    if not days:
        return {}
    raw = redis_client().mget([_day_key(day, tz) for day in days])
    return {
        day: json.loads(value) for day, value in zip(days, raw, strict=True) if value is not None
    }


def _cache_days(days: list[date], rows: list, tz: int) -> None:
    by_day: dict[date, list] = {day: [] for day in days}
    for _level, bucket, *fields in rows:
        if bucket in by_day:
            by_day[bucket].append(fields)
    pipe = redis_client().pipeline(transaction=False)
    for day, fields in by_day.items():
        pipe.set(_day_key(day, tz), json.dumps(fields, separators=(",", ":")), ex=DAY_CACHE_TTL)
    pipe.execute()


def _ranges(start, end, buckets, skip, tz) -> list[tuple[datetime, datetime, bool]]:
    """(low, high, last) for each run of buckets not in *skip*, long runs cut into slices; the
    first run starts at *start*, the last ends at *end* (inclusive)."""
    runs: list[list] = []
    for i, bucket in enumerate(buckets):
        if bucket in skip:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run in runs:
        slices = STATS_SLICES if len(run) >= STATS_SLICES * 2 else 1
        bounds = [run[0] + len(run) * k // slices for k in range(slices)] + [run[-1] + 1]
        for lo, hi in itertools.pairwise(bounds):
            low = start if lo == 0 else _utc_start(buckets[lo], tz)
            last = hi == len(buckets)
            high = end if last else _utc_start(buckets[hi], tz)
            out.append((low, high, last))
    return out


def _aggregate(engine, unit: str, low: datetime, high: datetime, last: bool, tz: int) -> list:
    with engine.connect() as conn, conn.begin():
        for statement in STATS_SETTINGS:
            conn.execute(sa.text(statement))
        params = {"low": low, "high": high, "tz": tz}
        return [tuple(row) for row in conn.execute(RANGE_SQL[unit, last], params)]


def _groups(start: datetime, end: datetime, hourly: bool, tz: int, buckets: list):
    """The window's groups: (cached {day: groups}, computed rows of ``RANGE_SQL``). Finished
    days come from the cache, the rest is aggregated by PostgreSQL, its parts at once."""
    cached: dict = {}
    settled: list[date] = []
    if not hourly:
        # whole days only (the first and last buckets are cut by the window), ended a while ago
        before = end - DAY_CACHE_SETTLE
        settled = [d for d in buckets[1:-1] if _utc_start(d + timedelta(days=1), tz) <= before]
        cached = _cached_days(settled, tz)
    unit = "hour" if hourly else "day"
    engine = db.engine
    jobs = [(engine, unit, *part, tz) for part in _ranges(start, end, buckets, cached, tz)]
    computed: list = []
    if len(jobs) == 1:
        computed = _aggregate(*jobs[0])
    elif jobs:
        with ThreadPoolExecutor(min(len(jobs), STATS_SLICES)) as pool:
            for part in pool.map(lambda job: _aggregate(*job), jobs):
                computed.extend(part)
    fresh = [day for day in settled if day not in cached]
    if fresh:
        _cache_days(fresh, computed, tz)
    return cached, computed


class _Sums:
    """Running sums of the groups: per bucket [calls, cost, input, output, chat, agent,
    memory], per source and per (source, name) [calls, cost, input, output]."""

    COST_COLUMN = {"chat": 4, "agent": 5, "memory_extraction": 6}

    def __init__(self, buckets: list) -> None:
        self.buckets = {bucket: [0, 0.0, 0, 0, 0.0, 0.0, 0.0] for bucket in buckets}
        self.sources = {source: [0, 0.0, 0, 0] for source in SOURCES}
        self.names: dict[tuple[str, str], list] = {}

    def add(self, level, bucket, source, name, calls, cost, input_tokens, output_tokens) -> None:
        if level != 2:
            sums = self.buckets[bucket]
            sums[0] += calls
            sums[1] += cost
            sums[2] += input_tokens
            sums[3] += output_tokens
            sums[self.COST_COLUMN[source]] += cost
            sums = self.sources[source]
            sums[0] += calls
            sums[1] += cost
            sums[2] += input_tokens
            sums[3] += output_tokens
        if level != 1:
            key = (source, UNNAMED if name is None else name)
            sums = self.names.get(key)
            if sums is None:
                self.names[key] = [calls, cost, input_tokens, output_tokens]
            else:
                sums[0] += calls
                sums[1] += cost
                sums[2] += input_tokens
                sums[3] += output_tokens


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
    sums = _Sums(buckets)
    cached, computed = _groups(start, end, hourly, tz, buckets)
    for day, groups in cached.items():
        for group in groups:
            sums.add(0, day, *group)
    for row in computed:
        sums.add(*row)
    calls = sum(v[0] for v in sums.sources.values())
    cost = sum(v[1] for v in sums.sources.values())
    date_format = "%Y-%m-%dT%H:00" if hourly else "%Y-%m-%d"
    top = sorted(sums.names.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
    return {
        "totalCostUsd": cost,
        "totalInputTokens": sum(v[2] for v in sums.sources.values()),
        "totalOutputTokens": sum(v[3] for v in sums.sources.values()),
        "totalCalls": calls,
        "avgCostPerCall": cost / calls if calls else 0,
        "dailyUsage": [
            {
                "date": bucket.strftime(date_format),
                "chat": v[4],
                "agent": v[5],
                "memory": v[6],
                "totalCost": v[1],
                "inputTokens": v[2],
                "outputTokens": v[3],
                "calls": v[0],
            }
            for bucket, v in sums.buckets.items()
        ],
        "bySource": [
            {"source": source, "cost": v[1], "calls": v[0], "tokens": v[2] + v[3]}
            for source, v in sums.sources.items()
        ],
        "topConsumers": [
            {"name": name, "source": source, "cost": v[1], "calls": v[0], "tokens": v[2] + v[3]}
            for (source, name), v in top[:10]
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
