"""Cron schedules of agents (API.md §11): validation, English descriptions, fire times, and
the clock duties that fire due agents and close runs orphaned by dead workers.

Schedules are evaluated in ``COGNOVA_TIMEZONE`` (one zone for the installation, not a per-user
setting); every instant handed out is UTC.

Firing, per enabled agent and clock tick:

* the most recent fire instant at or before now is computed from the row as it is now (edits
  and disabling take effect on the next tick; nothing is cached per agent);
* an instant is fired at most once: the clock claims ``(agent id, instant)`` with a Redis
  ``SET NX`` key before creating the run, so two clocks (or a clock that lost and regained the
  lead) never both fire it;
* the last instant handled per agent is kept in a Redis hash, so a restarted clock does not
  fire it again;
* catch-up: of the instants missed while no clock ran, only the most recent one is fired, and
  only when it is at most ``CATCH_UP_GRACE`` old; older ones are skipped (never N runs at once);
* a fire is skipped when the agent already has a running run.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from croniter import croniter
from flask import current_app

from cognova.clock import Duty, register
from cognova.extensions import db, redis_client, redis_key
from cognova.models.agents import CronAgent

log = logging.getLogger(__name__)

CATCH_UP_GRACE = timedelta(minutes=10)
CLAIM_TTL_SECONDS = 2 * 24 * 3600
SCHEDULER_EVERY = 0.5  # seconds; the clock's tick bounds it from below
SWEEPER_EVERY = 10

FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
)
NAMES = {
    3: ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    4: ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
}


# ------------------------------------------------------------------ validation


def _field_problem(index: int, text: str) -> str | None:
    """Why one field is unacceptable, in words, or None when it looks fine."""
    name, low, high = FIELDS[index]
    for part in text.split(","):
        if part == "":
            return f"invalid value '' in {name} field"
        body, _, step = part.partition("/")
        if step:
            if not step.isdigit():
                return f"invalid step '{step}' in {name} field"
            if int(step) == 0:
                return f"invalid step '0' in {name} field"
        for bound in body.split("-"):
            lowered = bound.lower()
            if bound in ("*", "?") or lowered in NAMES.get(index, ()):
                continue
            if index == 2 and re.fullmatch(r"(L|\d{1,2}W|LW)", bound, re.I):
                continue
            if index == 4 and re.fullmatch(r"\d#\d|\d?L|[a-z]{3}#\d", bound, re.I):
                continue
            if not bound.isdigit():
                return f"invalid value '{bound}' in {name} field"
            if not low <= int(bound) <= high:
                return f"invalid value '{bound}' in {name} field"
    return None


def cron_problem(expression: str) -> str | None:
    """Why *expression* is not an acceptable 5-field schedule, or None when it is."""
    fields = expression.split()
    if not fields:
        return "must not be empty"
    if len(fields) != 5:
        return "must have 5 fields"
    for index, text in enumerate(fields):
        problem = _field_problem(index, text)
        if problem:
            return problem
    try:
        iterator = croniter(" ".join(fields), datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, KeyError) as exc:
        return f"is not a valid cron expression ({_croniter_reason(exc)})"
    try:
        iterator.get_next(datetime)
    except (ValueError, KeyError):
        return "never matches any date"
    return None


def _croniter_reason(exc: Exception) -> str:
    text = str(exc)
    return text.split("] ", 1)[-1] if "] " in text else text


def validate_cron(expression: str) -> str:
    """The normalised expression (single spaces), or ValueError with the reason."""
    problem = cron_problem(expression.strip())
    if problem:
        raise ValueError(problem)
    return " ".join(expression.split())


@functools.lru_cache(maxsize=4096)
def describe(expression: str) -> str:
    """English rendering, e.g. ``"At 09:00 AM"``."""
    from cron_descriptor import Options, get_description

    options = Options()
    options.throw_exception_on_parse_error = True
    try:
        return get_description(expression, options)
    except Exception:
        return expression


# ------------------------------------------------------------------ fire times


def timezone_name() -> str:
    return current_app.config.get("TIMEZONE") or "UTC"


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:
        log.warning("unknown COGNOVA_TIMEZONE %r; schedules use UTC", name)
        return ZoneInfo("UTC")


def next_runs(expression: str, count: int = 5, after: datetime | None = None) -> list[datetime]:
    """The next *count* fire times strictly after *after* (default now), in UTC."""
    zone = _zone(timezone_name())
    start = (after or datetime.now(UTC)).astimezone(zone)
    iterator = croniter(expression, start)
    out = []
    for _ in range(count):
        try:
            out.append(iterator.get_next(datetime).astimezone(UTC))
        except (ValueError, KeyError):
            break
    return out


def next_run(expression: str, after: datetime | None = None) -> datetime | None:
    runs = next_runs(expression, 1, after)
    return runs[0] if runs else None


@functools.lru_cache(maxsize=8192)
def _latest_fire(expression: str, zone_name: str, minute: int) -> float | None:
    """Epoch seconds of the latest fire instant at or before the minute *minute* (epoch
    minutes). Cron resolves to whole minutes, so every tick of a minute shares one answer;
    the cache is keyed by the expression, never by agent, so an edit is seen at once."""
    zone = _zone(zone_name)
    start = datetime.fromtimestamp((minute + 1) * 60, UTC).astimezone(zone)
    try:
        return croniter(expression, start).get_prev(datetime).timestamp()
    except (ValueError, KeyError):
        return None


def latest_fire(expression: str, now: datetime) -> datetime | None:
    value = _latest_fire(expression, timezone_name(), int(now.timestamp() // 60))
    return None if value is None else datetime.fromtimestamp(value, UTC)


# ------------------------------------------------------------------ firing


def _last_key() -> str:
    return redis_key("agents", "last-fire")


def _claim_key(agent_id, instant: datetime) -> str:
    return redis_key("agents", "fired", str(agent_id), str(int(instant.timestamp())))


def mark_rescheduled(agent_id, now: datetime | None = None) -> None:
    """Forget instants before *now* for this agent: a newly enabled or re-timed agent starts
    from its next fire time instead of catching up on one from before the edit."""
    stamp = (now or datetime.now(UTC)).timestamp()
    try:
        redis_client().hset(_last_key(), str(agent_id), repr(stamp))
    except Exception:
        log.warning("could not record the reschedule of agent %s", agent_id)


def forget(agent_id) -> None:
    try:
        redis_client().hdel(_last_key(), str(agent_id))
    except Exception:
        log.warning("could not forget the schedule of agent %s", agent_id)


def due_agents(now: datetime | None = None) -> list[tuple]:
    """Claim the fire instants that are due now: ``[(agent row, instant)]`` (the row has
    ``id``, ``schedule``, ``updated_at``), each returned by exactly one caller across all
    processes."""
    now = now or datetime.now(UTC)
    # Only what the schedule needs: this runs every tick over every enabled agent.
    agents = db.session.execute(
        sa.select(CronAgent.id, CronAgent.schedule, CronAgent.updated_at).where(
            CronAgent.enabled.is_(True)
        )
    ).all()
    if not agents:
        return []
    r = redis_client()
    last_seen = {k.decode(): float(v) for k, v in r.hgetall(_last_key()).items()}
    candidates: list[tuple] = []
    skipped: dict[str, str] = {}
    for agent in agents:
        instant = latest_fire(agent.schedule, now)
        if instant is None:
            continue
        key = str(agent.id)
        since = last_seen.get(key)
        if since is None:
            # Never handled by any clock (e.g. Redis was emptied): only instants after the
            # agent's last edit count, and then only within the grace window.
            since = agent.updated_at.timestamp()
        if instant.timestamp() <= since:
            continue
        if now - instant > CATCH_UP_GRACE:
            skipped[key] = repr(instant.timestamp())
            log.info("agent %s: missed %s beyond the grace window; skipped", key, instant)
            continue
        candidates.append((agent, instant))
    if skipped:
        r.hset(_last_key(), mapping=skipped)
    if not candidates:
        return []
    pipe = r.pipeline(transaction=False)
    for agent, instant in candidates:
        pipe.set(_claim_key(agent.id, instant), "1", nx=True, ex=CLAIM_TTL_SECONDS)
    claimed = [pair for pair, won in zip(candidates, pipe.execute(), strict=True) if won]
    # The last-handled instant moves forward for every candidate, claimed here or elsewhere.
    r.hset(
        _last_key(),
        mapping={str(agent.id): repr(instant.timestamp()) for agent, instant in candidates},
    )
    return claimed


def fire_due(now: datetime | None = None) -> int:
    """The scheduler duty: start a run for every due, claimed, not-running agent."""
    from cognova.services import agent_runs

    claimed = due_agents(now)
    if not claimed:
        return 0
    return len(agent_runs.start_scheduled(claimed))


def sweep() -> int:
    from cognova.services import agent_runs

    return agent_runs.sweep_orphans()


register(Duty("agent-scheduler", SCHEDULER_EVERY, fire_due))
register(Duty("agent-orphan-sweeper", SWEEPER_EVERY, sweep))
