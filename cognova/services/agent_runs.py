"""The life of an agent run (API.md §11.3): start, heartbeat, cancel, finish, orphan sweep.

A run row is created ``running`` when the run is fired (manually or by the clock) and its RQ
job is enqueued on the ``agents`` queue with the run id as the job id, so "where is the job of
this run" is one lookup. The job beats a Redis heartbeat while it works. The sweeper closes a
run as ``error`` / ``"Worker lost"`` when its job is gone from the queue or its heartbeat went
stale; a run whose job is still queued, or whose worker keeps beating, is never touched.

Cancellation is a Redis flag per run, set by whichever process handles the cancel request and
polled by the agent loop in the worker; the row itself is marked ``cancelled`` at once.

Tool calls of a run are kept in a Redis list under the run id for ``STEPS_TTL`` (30 days), not
in the database (the schema has no column for them); the run detail returns them as
``toolCalls``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from cognova.extensions import db, queue, redis_client, redis_key
from cognova.models.agents import CronAgent, CronAgentRun
from cognova.services.errors import Conflict, NotFound
from cognova.services.notifications import notify

log = logging.getLogger(__name__)

QUEUE = "agents"
HEARTBEAT_EVERY = 10  # seconds between beats of a working job
HEARTBEAT_STALE = 60  # a started job silent for this long has lost its worker
HEARTBEAT_TTL = 3600
ENQUEUE_GRACE = 15  # a run younger than this may not have reached the queue yet
CANCEL_TTL = 24 * 3600
STEPS_TTL = 30 * 24 * 3600
WORKER_LOST = "Worker lost"
FINISHED = ("success", "error", "budget_exceeded", "cancelled")


def now_utc() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ keys


def cancel_key(run_id) -> str:
    return redis_key("agent-run", str(run_id), "cancel")


def heartbeat_key(run_id) -> str:
    return redis_key("agent-run", str(run_id), "heartbeat")


def steps_key(run_id) -> str:
    return redis_key("agent-run", str(run_id), "steps")


def is_cancelled(run_id) -> bool:
    return bool(redis_client().exists(cancel_key(run_id)))


def beat(run_id) -> None:
    redis_client().set(heartbeat_key(run_id), repr(time.time()), ex=HEARTBEAT_TTL)


def last_beat(run_id) -> float | None:
    value = redis_client().get(heartbeat_key(run_id))
    return float(value) if value else None


def record_step(run_id, step: dict) -> None:
    key = steps_key(run_id)
    pipe = redis_client().pipeline(transaction=False)
    pipe.rpush(key, json.dumps(step, default=str, separators=(",", ":")))
    pipe.expire(key, STEPS_TTL)
    pipe.execute()


def steps(run_id) -> list[dict]:
    out = []
    for raw in redis_client().lrange(steps_key(run_id), 0, -1):
        try:
            out.append(json.loads(raw))
        except ValueError:
            continue
    return out


# ------------------------------------------------------------------ starting


def running_agent_ids(agent_ids=None) -> set[uuid.UUID]:
    stmt = sa.select(CronAgentRun.agent_id).where(CronAgentRun.status == "running").distinct()
    if agent_ids is not None:
        stmt = stmt.where(CronAgentRun.agent_id.in_(list(agent_ids)))
    return set(db.session.scalars(stmt))


def _new_run(agent: CronAgent, now: datetime) -> CronAgentRun:
    run = CronAgentRun(id=uuid.uuid4(), agent_id=agent.id, status="running", started_at=now)
    db.session.add(run)
    agent.last_run_at = now
    notify("agent", "run", agent.id, agent.name)
    return run


def enqueue(run_ids: list) -> None:
    """Put the runs on the agents queue, the run id as the job id."""
    from cognova.jobs.agents import execute_run, rq_timeout

    if not run_ids:
        return
    q = queue(QUEUE)
    spec = execute_run.job_spec
    datas = [
        q.prepare_data(
            "cognova.jobs.agents.execute_run",
            args=(str(run_id),),
            timeout=rq_timeout(),
            result_ttl=spec.result_ttl,
            failure_ttl=spec.failure_ttl,
            job_id=str(run_id),
        )
        for run_id in run_ids
    ]
    for start in range(0, len(datas), 500):
        with q.connection.pipeline() as pipe:
            q.enqueue_many(datas[start : start + 500], pipeline=pipe)
            pipe.execute()


def start_manual(agent_id, *, force: bool = False) -> CronAgentRun:
    """A manual run (allowed while disabled). The agent row is locked so two concurrent
    requests cannot both see "not running"."""
    agent = db.session.scalar(
        sa.select(CronAgent).where(CronAgent.id == agent_id).with_for_update()
    )
    if agent is None:
        raise NotFound("Agent not found")
    if not force and running_agent_ids([agent.id]):
        raise Conflict("Agent is already running")
    run = _new_run(agent, now_utc())
    db.session.commit()
    enqueue([run.id])
    return run


def start_scheduled(claimed: list[tuple]) -> list[uuid.UUID]:
    """Start the claimed fires, skipping agents that are running (or were just disabled or
    deleted by a concurrent request). Returns the new run ids."""
    ids = [agent.id for agent, _ in claimed]
    locked = {
        row.id: row
        for row in db.session.scalars(
            sa.select(CronAgent)
            .where(CronAgent.id.in_(ids), CronAgent.enabled.is_(True))
            .order_by(CronAgent.id)
            .with_for_update()
        )
    }
    busy = running_agent_ids(list(locked))
    now = now_utc()
    runs = []
    for agent_id in ids:
        agent = locked.get(agent_id)
        if agent is None or agent_id in busy:
            continue
        runs.append(_new_run(agent, now).id)
    db.session.commit()
    enqueue(runs)
    return runs


# ------------------------------------------------------------------ cancelling


def _elapsed_ms():
    return sa.cast(
        sa.func.extract("epoch", sa.func.now() - CronAgentRun.started_at) * 1000, sa.Integer
    )


def cancel_agent(agent: CronAgent) -> int:
    """Mark every running run of *agent* cancelled and raise their flags. The caller commits;
    the flags are raised here, before the commit, so a worker never finishes a run as success
    after the user saw it cancelled."""
    ids = list(
        db.session.scalars(
            sa.update(CronAgentRun)
            .where(CronAgentRun.agent_id == agent.id, CronAgentRun.status == "running")
            .values(status="cancelled", completed_at=sa.func.now(), duration_ms=_elapsed_ms())
            .returning(CronAgentRun.id)
        )
    )
    if not ids:
        return 0
    signal_cancel(ids)
    agent.last_status = "cancelled"
    return len(ids)


def signal_cancel(run_ids) -> None:
    pipe = redis_client().pipeline(transaction=False)
    for run_id in run_ids:
        pipe.set(cancel_key(run_id), "1", ex=CANCEL_TTL)
    pipe.execute()
    # Runs still waiting in the queue never need a worker; started ones stop on the flag.
    for run_id in run_ids:
        with contextlib.suppress(Exception):
            job = Job.fetch(str(run_id), connection=redis_client())
            if job.get_status(refresh=False) == JobStatus.QUEUED:
                job.cancel()


# ------------------------------------------------------------------ finishing


def claim_for_execution(run_id) -> CronAgentRun | None:
    """The run row, if it is still ``running`` (not cancelled or swept while it queued)."""
    run = db.session.get(CronAgentRun, run_id)
    if run is None or run.status != "running":
        return None
    return run


def finish(
    run_id,
    status: str,
    *,
    output: str | None = None,
    error: str | None = None,
    cost_usd: float | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    num_turns: int | None = None,
    duration_ms: int | None = None,
) -> bool:
    """Close the run with *status* if it is still running; otherwise (cancelled or swept
    meanwhile) keep its status and only record the usage. Returns whether the status was
    set. Emits ``complete`` / ``fail``; the caller commits."""
    usage = {
        "cost_usd": cost_usd,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "num_turns": num_turns,
    }
    closed = db.session.scalar(
        sa.update(CronAgentRun)
        .where(CronAgentRun.id == run_id, CronAgentRun.status == "running")
        .values(
            status=status,
            output=output,
            error=error,
            completed_at=sa.func.now(),
            duration_ms=duration_ms,
            **usage,
        )
        .returning(CronAgentRun.agent_id)
    )
    if closed is None:
        db.session.execute(sa.update(CronAgentRun).where(CronAgentRun.id == run_id).values(**usage))
        return False
    agent = db.session.get(CronAgent, closed)
    if agent is not None:
        agent.last_status = status
        if status == "success":
            notify("agent", "complete", agent.id, agent.name)
        elif status in ("error", "budget_exceeded"):
            notify("agent", "fail", agent.id, agent.name)
    return True


# ------------------------------------------------------------------ orphans


WAITING = {
    JobStatus.CREATED,
    JobStatus.QUEUED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
    JobStatus.RATE_LIMITED,
    JobStatus.READY_TO_ENQUEUE,
}


def _job_alive(run: CronAgentRun, stale_after: float, now: float) -> bool:
    try:
        job = Job.fetch(str(run.id), connection=redis_client())
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        # A run row is committed just before its job is enqueued: give it a moment.
        return now - run.started_at.timestamp() < ENQUEUE_GRACE
    if status in WAITING:
        return True
    if status != JobStatus.STARTED:
        return False  # finished, failed or stopped without closing its run
    beat_at = last_beat(run.id)
    if beat_at is None:
        started = job.started_at.timestamp() if job.started_at else now
        return now - started < stale_after
    return now - beat_at < stale_after


def sweep_orphans(stale_after: float = HEARTBEAT_STALE) -> int:
    """Close runs whose worker is gone as ``error`` / ``"Worker lost"``."""
    candidates = db.session.scalars(
        sa.select(CronAgentRun).where(CronAgentRun.status == "running")
    ).all()
    now = time.time()
    lost = [run.id for run in candidates if not _job_alive(run, stale_after, now)]
    for run_id in lost:
        log.warning("agent run %s: worker lost", run_id)
        finish(run_id, "error", error=WORKER_LOST, duration_ms=None)
        db.session.execute(
            sa.update(CronAgentRun)
            .where(CronAgentRun.id == run_id, CronAgentRun.duration_ms.is_(None))
            .values(duration_ms=_elapsed_ms())
        )
    db.session.commit()
    return len(lost)


# ------------------------------------------------------------------ AI availability


def require_ai_key() -> None:
    """503 before anything is stored when no Anthropic key is configured."""
    from cognova.ai import client

    client.require_api_key()
