"""Claude Code hook analytics (API.md §13): ingestion, the event list and the stats.

Ingestion is one INSERT … RETURNING per event, in one round trip on a pool of its own, so a
flood of hook events costs the API little; the stats are computed by PostgreSQL in one grouped
pass per day, finished days cached in Redis.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app

from cognova.api.validation import iso_ms
from cognova.extensions import db, redis_client, redis_key
from cognova.models import HookEvent
from cognova.schemas.hooks import EVENT_TYPES, serialise_event_data
from cognova.services import notifications
from cognova.services.errors import ServiceError

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
COLUMNS = tuple(HookEvent.__table__.c)


def parse_event_data(stored: str | None):
    """Stored as a JSON string; returned parsed, or raw when it is not valid JSON (§13)."""
    if stored is None:
        return None
    try:
        return json.loads(stored)
    except ValueError:
        return stored


def serialize(row) -> dict:
    return {
        "id": str(row.id),
        "eventType": row.event_type,
        "sessionId": row.session_id,
        "projectDir": row.project_dir,
        "toolName": row.tool_name,
        "toolMatcher": row.tool_matcher,
        "blockReason": row.block_reason,
        "hookScript": row.hook_script,
        "eventData": parse_event_data(row.event_data),
        "exitCode": row.exit_code,
        "durationMs": row.duration_ms,
        "blocked": bool(row.blocked),
        "createdAt": iso_ms(row.created_at),
    }


# Ingestion has its own pool of autocommit connections on which commits do not wait for the
# WAL flush (analytics rows may lose their last few hundred milliseconds in a crash): the
# INSERT is one round trip and nothing else, and a flood of events cannot take the connections
# the rest of the API needs. The pool is fixed: a flood queues for a connection (each is held
# for one round trip) instead of opening and closing PostgreSQL backends.
INGEST_POOL = {"pool_size": 8, "max_overflow": 0, "pool_timeout": 10}
FIELDS = tuple(c.name for c in HookEvent.__table__.c if c.name != "created_at")
# Plain SQL on the driver: every value but the arrival time is known here, so only that comes
# back, and nothing is compiled per event. The id is chosen here too (see ``_insert``).
INSERT_SQL = (
    f"INSERT INTO hook_events ({', '.join(FIELDS)}) "
    f"VALUES ({', '.join(f'%({name})s' for name in FIELDS)}) "
    "ON CONFLICT (id) DO NOTHING RETURNING created_at"
)
_engine_lock = threading.Lock()


def ingest_engine() -> sa.Engine:
    """This process's ingestion engine (made on first use; a forked child makes its own)."""
    app = current_app._get_current_object()
    held = app.extensions.get("cognova.hooks_engine")
    if held is not None and held[0] == os.getpid():
        return held[1]
    with _engine_lock:
        held = app.extensions.get("cognova.hooks_engine")
        if held is not None and held[0] == os.getpid():
            return held[1]
        if held is not None:
            held[1].dispose(close=False)  # the parent's connections stay the parent's
        url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        connect_args = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args") or {})
        given = url.query.get("options") or ()
        given = [given] if isinstance(given, str) else list(given)
        connect_args["options"] = " ".join([*given, "-c synchronous_commit=off"])
        engine = sa.create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            connect_args=connect_args,
            **INGEST_POOL,
        )
        app.extensions["cognova.hooks_engine"] = (os.getpid(), engine)
        return engine


def _insert(values: dict) -> datetime:
    """Store one row on the ingestion pool; its ``created_at``. No ping before use: a
    connection found dead (the server restarted while it sat in the pool) is dropped and the
    insert sent once more, and as the id is chosen here, a first attempt that did reach the
    table is found rather than stored twice."""
    for attempt in (1, 2):
        try:
            with ingest_engine().connect() as conn:
                created = conn.exec_driver_sql(INSERT_SQL, values).scalar()
                if created is None:
                    created = conn.execute(
                        sa.select(HookEvent.created_at).where(HookEvent.id == values["id"])
                    ).scalar_one()
                return created
        except sa.exc.DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
        except sa.exc.TimeoutError:
            raise ServiceError("Database unavailable", status=503) from None
    raise AssertionError("unreachable")


def record(
    event_type: str,
    *,
    session_id: str | None = None,
    project_dir: str | None = None,
    tool_name: str | None = None,
    tool_matcher: str | None = None,
    event_data=None,
    exit_code: int | None = None,
    blocked: bool = False,
    block_reason: str | None = None,
    duration_ms: int | None = None,
    hook_script: str | None = None,
    event_data_json: str | None = None,
    event_id: uuid.UUID | None = None,
) -> dict:
    """Store one hook event (committed at once, outside the caller's transaction), publish
    its ``hook/create`` event, and return it as the API shows it.

    ``event_data`` is any JSON value; ``event_data_json`` is the stored text when the caller
    has it already (it is then returned parsed, or raw if it is not JSON)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown hook event type {event_type!r}")
    if event_data_json is None and event_data is not None:
        event_data_json = serialise_event_data(event_data)
    values = {
        "id": event_id or uuid.uuid4(),
        "event_type": event_type,
        "session_id": session_id,
        "project_dir": project_dir,
        "tool_name": tool_name,
        "tool_matcher": tool_matcher,
        "event_data": event_data_json,
        "exit_code": exit_code,
        "blocked": bool(blocked),
        "block_reason": block_reason,
        "duration_ms": duration_ms,
        "hook_script": hook_script,
    }
    created_at = _insert(values)
    name = f"{event_type} {tool_name}" if tool_name else event_type
    notifications.publish_now(notifications.build_event("hook", "create", values["id"], name))
    return serialize(SimpleNamespace(**values, created_at=created_at))


def list_events(
    *,
    event_types: list[str] | None = None,
    session_id: str | None = None,
    tool_name: str | None = None,
    blocked: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[dict]:
    stmt = sa.select(*COLUMNS)
    if event_types:
        stmt = stmt.where(HookEvent.event_type.in_(event_types))
    if session_id is not None:
        stmt = stmt.where(HookEvent.session_id == session_id)
    if tool_name is not None:
        stmt = stmt.where(HookEvent.tool_name == tool_name)
    if blocked is not None:
        stmt = stmt.where(HookEvent.blocked.is_(blocked))
    if since is not None:
        stmt = stmt.where(HookEvent.created_at >= since)
    if until is not None:
        stmt = stmt.where(HookEvent.created_at < until)
    stmt = stmt.order_by(HookEvent.created_at.desc(), HookEvent.id.desc()).limit(limit)
    return [serialize(row) for row in db.session.execute(stmt)]


# ------------------------------------------------------------------ stats


def _mean(total: int | None, count: int | None) -> int:
    """Integer mean rounded half up; 0 when nothing was measured."""
    if not count:
        return 0
    return (2 * int(total or 0) + int(count)) // (2 * int(count))


def _rate(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole) if whole else 0


# Per UTC day: the day's totals, per type and per tool, in one grouped pass over a time range.
STATS_SQL = sa.text(
    """
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
           grouping(event_type) AS g_type,
           grouping(tool_name) AS g_tool,
           event_type, tool_name,
           count(*) AS total,
           count(*) FILTER (WHERE blocked) AS blocked,
           coalesce(sum(duration_ms), 0) AS duration_sum,
           count(duration_ms) AS duration_count
    FROM hook_events
    WHERE created_at >= :start AND created_at <= :end
    GROUP BY GROUPING SETS ((day), (day, event_type), (day, tool_name))
    """
)
DAY_CACHE_TTL = 40 * 86400


def _empty_day() -> dict:
    return {"n": [0, 0, 0, 0], "types": {}, "tools": {}}


def _aggregate_days(start: datetime, end: datetime) -> dict[str, dict]:
    """{date: {"n": [total, blocked, duration sum, duration count], "types": {type: total},
    "tools": {tool: [total, blocked, sum, count]}}} for events in [start, end]."""
    days: dict[str, dict] = {}
    for row in db.session.execute(STATS_SQL, {"start": start, "end": end}).mappings():
        day = days.setdefault(row["day"].isoformat(), _empty_day())
        numbers = [
            int(row["total"]),
            int(row["blocked"]),
            int(row["duration_sum"]),
            int(row["duration_count"]),
        ]
        if row["g_type"] and row["g_tool"]:
            day["n"] = numbers
        elif not row["g_type"]:
            day["types"][row["event_type"]] = numbers[0]
        elif row["tool_name"] is not None:
            day["tools"][row["tool_name"]] = numbers
    return days


def _day_key(day: date) -> str:
    return redis_key("hooks", "day-stats", day.isoformat())


def _window_days(start: datetime, now: datetime) -> dict[str, dict]:
    """Per-day aggregates of the window. Whole past days come from a Redis cache (events are
    stamped by the database clock when they arrive, so a finished UTC day never changes);
    only the partial first day, today and days not cached yet are read from the table.
    This keeps a 30-day window over a million events at the cost of about two days of rows."""
    first, last = start.astimezone(UTC).date(), now.astimezone(UTC).date()
    whole = [first + timedelta(days=n) for n in range(1, (last - first).days)]
    redis = redis_client()
    cached = redis.mget([_day_key(day) for day in whole]) if whole else []
    days: dict[str, dict] = {}
    missing = []
    for day, raw in zip(whole, cached, strict=True):
        if raw is None:
            missing.append(day)
        else:
            days[day.isoformat()] = json.loads(raw)
    ranges = [(start, datetime.combine(first + timedelta(days=1), time.min, UTC) - _TICK)]
    if missing:
        ranges.append(
            (
                datetime.combine(missing[0], time.min, UTC),
                datetime.combine(missing[-1] + timedelta(days=1), time.min, UTC) - _TICK,
            )
        )
    if last > first:
        ranges.append((datetime.combine(last, time.min, UTC), now))
    else:
        ranges = [(start, now)]
    for range_start, range_end in ranges:
        for key, value in _aggregate_days(range_start, range_end).items():
            if key in days and key not in {d.isoformat() for d in missing}:
                continue
            days[key] = value
    if missing:
        with redis.pipeline(transaction=False) as pipe:
            for day in missing:
                value = days.setdefault(day.isoformat(), _empty_day())
                pipe.set(_day_key(day), json.dumps(value), ex=DAY_CACHE_TTL)
            pipe.execute()
    return days


_TICK = timedelta(microseconds=1)


def recent_sessions(start: datetime, end: datetime, wanted: int = 10) -> list[str]:
    """Distinct session ids, most recent event first.

    Walks the newest events backwards (an index scan that usually stops after a few hundred
    rows, since a session sends many events) and only groups the whole window when that does
    not find enough sessions.
    """
    found: dict[str, None] = {}
    batch, offset = 500, 0
    while offset < 5 * batch:
        ids = db.session.scalars(
            sa.select(HookEvent.session_id)
            .where(HookEvent.created_at >= start, HookEvent.created_at <= end)
            .where(HookEvent.session_id.is_not(None))
            .order_by(HookEvent.created_at.desc())
            .offset(offset)
            .limit(batch)
        ).all()
        for ident in ids:
            found.setdefault(ident, None)
            if len(found) == wanted:
                return list(found)
        if len(ids) < batch:
            return list(found)
        offset += batch
    latest = sa.func.max(HookEvent.created_at)
    return list(
        db.session.scalars(
            sa.select(HookEvent.session_id)
            .where(HookEvent.created_at >= start, HookEvent.created_at <= end)
            .where(HookEvent.session_id.is_not(None))
            .group_by(HookEvent.session_id)
            .order_by(latest.desc())
            .limit(wanted)
        )
    )


def stats(period: str = "7d", now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    start = now - PERIODS[period]
    days = _window_days(start, now)
    overall = [0, 0, 0, 0]
    by_type = dict.fromkeys(EVENT_TYPES, 0)
    tools: dict[str, list[int]] = {}
    for day in days.values():
        overall = [a + b for a, b in zip(overall, day["n"], strict=True)]
        for name, count in day["types"].items():
            if name in by_type:
                by_type[name] += count
        for name, numbers in day["tools"].items():
            tools[name] = [
                a + b for a, b in zip(tools.get(name, [0, 0, 0, 0]), numbers, strict=True)
            ]
    ranked = sorted(tools.items(), key=lambda item: (-item[1][0], item[0]))[:20]
    daily = []
    day, last = start.astimezone(UTC).date(), now.astimezone(UTC).date()
    while day <= last:
        total, blocked, duration_sum, duration_count = days.get(day.isoformat(), _empty_day())["n"]
        daily.append(
            {
                "date": day.isoformat(),
                "total": total,
                "blocked": blocked,
                "allowed": total - blocked,
                "avgDurationMs": _mean(duration_sum, duration_count),
            }
        )
        day += timedelta(days=1)
    total, blocked = overall[0], overall[1]
    return {
        "totalEvents": total,
        "blockedEvents": blocked,
        "blockRate": _rate(blocked, total),
        "avgDurationMs": _mean(overall[2], overall[3]),
        "eventsByType": by_type,
        "toolBreakdown": [
            {
                "toolName": name,
                "total": numbers[0],
                "blocked": numbers[1],
                "avgDurationMs": _mean(numbers[2], numbers[3]),
            }
            for name, numbers in ranked
        ],
        "dailyActivity": daily,
        "recentSessions": recent_sessions(start, now),
    }
