"""Agents (API.md §11): CRUD, manual runs, cancellation, run history and stats."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.agents import CronAgent, CronAgentRun
from cognova.models.auth import User
from cognova.schemas.agents import AgentOut, RunOut
from cognova.services import agent_runs, agent_schedule
from cognova.services.errors import NotFound
from cognova.services.notifications import notify

DEFAULT_MAX_TURNS = 50
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def real(value: float | None) -> float | None:
    """REAL columns hold 7 significant digits; show them without float4 noise."""
    return None if value is None else float(f"{value:.7g}")


def money(value) -> float:
    return round(float(value or 0), 6)


# ------------------------------------------------------------------ serialisation


def agent_json(agent: CronAgent, *, running: bool, creator: User | None) -> dict:
    out = AgentOut(
        id=agent.id,
        name=agent.name,
        description=agent.description,
        schedule=agent.schedule,
        schedule_description=agent_schedule.describe(agent.schedule),
        prompt=agent.prompt,
        enabled=agent.enabled,
        max_turns=agent.max_turns or DEFAULT_MAX_TURNS,
        max_budget_usd=real(agent.max_budget_usd),
        last_run_at=agent.last_run_at,
        last_status=agent.last_status if agent.last_status in agent_runs.FINISHED else None,
        is_running=running,
        next_run_at=agent_schedule.next_run(agent.schedule) if agent.enabled else None,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
        created_by=agent.created_by,
        creator={"id": creator.id, "name": creator.name} if creator is not None else None,
    )
    return out.model_dump(mode="json", by_alias=True)


def run_json(run: CronAgentRun) -> dict:
    out = RunOut.model_validate(run).model_dump(mode="json", by_alias=True)
    out["costUsd"] = real(run.cost_usd)
    return out


def _creators(agents: list[CronAgent]) -> dict[str, User]:
    ids = {a.created_by for a in agents if a.created_by}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def agents_json(agents: list[CronAgent]) -> list[dict]:
    running = agent_runs.running_agent_ids([a.id for a in agents]) if agents else set()
    creators = _creators(agents)
    return [
        agent_json(a, running=a.id in running, creator=creators.get(a.created_by)) for a in agents
    ]


def one_json(agent: CronAgent) -> dict:
    return agents_json([agent])[0]


# ------------------------------------------------------------------ CRUD


def get(agent_id) -> CronAgent:
    agent = db.session.get(CronAgent, agent_id)
    if agent is None:
        raise NotFound("Agent not found")
    return agent


def list_agents(enabled: bool | None = None) -> list[CronAgent]:
    stmt = sa.select(CronAgent).order_by(sa.func.lower(CronAgent.name), CronAgent.created_at)
    if enabled is not None:
        stmt = stmt.where(CronAgent.enabled.is_(enabled))
    return list(db.session.scalars(stmt))


def create(data: dict[str, Any], actor: str | None) -> CronAgent:
    now = datetime.now(UTC)
    agent = CronAgent(
        id=uuid.uuid4(),
        name=data["name"],
        description=data.get("description"),
        schedule=data["schedule"],
        prompt=data["prompt"],
        enabled=data.get("enabled", True),
        max_turns=data.get("max_turns", DEFAULT_MAX_TURNS),
        max_budget_usd=data.get("max_budget_usd"),
        created_at=now,
        updated_at=now,
        created_by=actor,
    )
    db.session.add(agent)
    db.session.flush()
    notify("agent", "create", agent.id, agent.name)
    agent_schedule.mark_rescheduled(agent.id, now)
    return agent


def update(agent_id, changes: dict[str, Any]) -> CronAgent:
    agent = get(agent_id)
    reschedule = ("schedule" in changes and changes["schedule"] != agent.schedule) or (
        changes.get("enabled") is True and not agent.enabled
    )
    for field, value in changes.items():
        setattr(agent, field, value)
    agent.updated_at = datetime.now(UTC)
    notify("agent", "edit", agent.id, agent.name)
    if reschedule:
        agent_schedule.mark_rescheduled(agent.id, agent.updated_at)
    return agent


def delete(agent_id) -> dict:
    agent = get(agent_id)
    agent_runs.cancel_agent(agent)
    out = {"id": str(agent.id), "name": agent.name, "deleted": True}
    db.session.delete(agent)
    notify("agent", "delete", agent.id, agent.name)
    agent_schedule.forget(agent.id)
    return out


def cancel(agent_id) -> int:
    agent = get(agent_id)
    count = agent_runs.cancel_agent(agent)
    if not count:
        raise NotFound("No running executions")
    notify("agent", "cancel", agent.id, agent.name)
    return count


# ------------------------------------------------------------------ runs


def runs(agent_id, limit: int, period: str | None) -> list[CronAgentRun]:
    get(agent_id)
    stmt = (
        sa.select(CronAgentRun)
        .where(CronAgentRun.agent_id == agent_id)
        .order_by(CronAgentRun.started_at.desc(), CronAgentRun.id)
        .limit(limit)
    )
    if period:
        stmt = stmt.where(CronAgentRun.started_at >= datetime.now(UTC) - PERIODS[period])
    return list(db.session.scalars(stmt))


def run(agent_id, run_id) -> CronAgentRun:
    get(agent_id)
    found = db.session.get(CronAgentRun, run_id)
    if found is None or found.agent_id != uuid.UUID(str(agent_id)):
        raise NotFound("Run not found")
    return found


# ------------------------------------------------------------------ stats


def success_rate(success: int, finished: int) -> int:
    """100 × success / finished, rounded half up (integer arithmetic: no float surprises)."""
    if not finished:
        return 0
    return (200 * success + finished) // (2 * finished)


def _period_rows(period: str, agent_id=None):
    now = datetime.now(UTC)
    since = now - PERIODS[period]
    day = sa.cast(sa.func.timezone("UTC", CronAgentRun.started_at), sa.Date)
    stmt = (
        sa.select(
            day.label("day"),
            CronAgentRun.status,
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(sa.cast(CronAgentRun.cost_usd, sa.Numeric)), 0).label(
                "cost"
            ),
            sa.func.coalesce(sa.func.sum(CronAgentRun.duration_ms), 0).label("ms"),
            sa.func.count(CronAgentRun.duration_ms).label("timed"),
        )
        .where(CronAgentRun.started_at >= since, CronAgentRun.started_at <= now)
        .group_by(day, CronAgentRun.status)
    )
    if agent_id is not None:
        stmt = stmt.where(CronAgentRun.agent_id == agent_id)
    return since.date(), now.date(), db.session.execute(stmt).all()


def _summarise(period: str, agent_id=None) -> dict:
    first, last, rows = _period_rows(period, agent_id)
    buckets: dict[date, dict] = {}
    day = first
    while day <= last:
        buckets[day] = {
            "date": day.isoformat(),
            "success": 0,
            "error": 0,
            "budgetExceeded": 0,
            "cancelled": 0,
            "total": 0,
            "costUsd": 0.0,
        }
        day += timedelta(days=1)
    keys = {
        "success": "success",
        "error": "error",
        "budget_exceeded": "budgetExceeded",
        "cancelled": "cancelled",
    }
    total = finished = succeeded = timed = ms = 0
    cost = 0.0
    for row in rows:
        total += row.n
        cost += float(row.cost)
        if row.status != "running":
            finished += row.n
            timed += row.timed
            ms += row.ms
        if row.status == "success":
            succeeded += row.n
        bucket = buckets.get(row.day)
        if bucket is None:
            continue
        bucket["total"] += row.n
        bucket["costUsd"] += float(row.cost)
        if row.status in keys:
            bucket[keys[row.status]] += row.n
    for bucket in buckets.values():
        bucket["costUsd"] = money(bucket["costUsd"])
    return {
        "total": total,
        "rate": success_rate(succeeded, finished),
        "avg_ms": (2 * ms + timed) // (2 * timed) if timed else 0,
        "cost": money(cost),
        "daily": list(buckets.values()),
    }


def stats(agent_id, period: str) -> dict:
    agent = get(agent_id)
    summary = _summarise(period, agent.id)
    return {
        "totalRuns": summary["total"],
        "successRate": summary["rate"],
        "avgDurationMs": summary["avg_ms"],
        "totalCostUsd": summary["cost"],
        "lastRunAt": agent.last_run_at,
        "dailyRuns": summary["daily"],
    }


def global_stats(period: str) -> dict:
    summary = _summarise(period)
    counts = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(CronAgent.enabled.is_(True)),
        ).select_from(CronAgent)
    ).one()
    return {
        "totalAgents": counts[0],
        "activeAgents": counts[1],
        "runsInPeriod": summary["total"],
        "successRate": summary["rate"],
        "totalCostUsd": summary["cost"],
        "runningAgentIds": sorted(str(i) for i in agent_runs.running_agent_ids()),
        "dailyRuns": summary["daily"],
    }
