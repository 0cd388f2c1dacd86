"""The agent scheduler (API.md §11.3): fire times in COGNOVA_TIMEZONE, each instant fired once
across clocks, edits seen at once, running agents skipped, and the catch-up policy."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.clock import DUTIES, load_duties
from cognova.extensions import db, redis_client
from cognova.models.agents import CronAgent, CronAgentRun
from cognova.services import agent_schedule
from tests.jobs.processes import FLASK, Proc, child_env, wait_for

T0 = datetime(2026, 3, 2, 8, 59, 30, tzinfo=UTC)  # a Monday


def make_agents(app, n=1, schedule="* * * * *", enabled=True, at=T0) -> list[uuid.UUID]:
    with app.app_context():
        ids = []
        for i in range(n):
            agent = CronAgent(
                id=uuid.uuid4(),
                name=f"agent {i}",
                schedule=schedule,
                prompt="go",
                enabled=enabled,
                created_at=at,
                updated_at=at,
            )
            db.session.add(agent)
            ids.append(agent.id)
        db.session.commit()
        for agent_id in ids:
            agent_schedule.mark_rescheduled(agent_id, at)
        return ids


def runs_of(app, agent_id=None) -> list[CronAgentRun]:
    with app.app_context():
        stmt = sa.select(CronAgentRun).order_by(CronAgentRun.started_at)
        if agent_id is not None:
            stmt = stmt.where(CronAgentRun.agent_id == agent_id)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def fire(app, now) -> int:
    with app.app_context():
        fired = agent_schedule.fire_due(now)
        db.session.remove()
        return fired


def finish_all(app):
    with app.app_context():
        db.session.execute(
            sa.update(CronAgentRun)
            .where(CronAgentRun.status == "running")
            .values(status="success", completed_at=sa.func.now())
        )
        db.session.commit()


def test_the_scheduler_duties_are_registered():
    load_duties()
    assert "agent-scheduler" in DUTIES and "agent-orphan-sweeper" in DUTIES
    assert DUTIES["agent-scheduler"].every <= 1


def test_an_agent_fires_once_per_instant(app):
    [agent_id] = make_agents(app)
    assert fire(app, T0) == 0  # 08:59 was before the agent existed
    assert fire(app, T0 + timedelta(seconds=31)) == 1  # 09:00:01
    assert fire(app, T0 + timedelta(seconds=45)) == 0  # same minute, already fired
    [run] = runs_of(app, agent_id)
    assert run.status == "running"
    with app.app_context():
        assert db.session.get(CronAgent, agent_id).last_run_at is not None
    finish_all(app)
    assert fire(app, T0 + timedelta(seconds=91)) == 1  # 09:01
    assert len(runs_of(app, agent_id)) == 2


def test_a_fire_is_skipped_while_the_agent_runs(app):
    [agent_id] = make_agents(app)
    assert fire(app, T0 + timedelta(seconds=31)) == 1
    assert fire(app, T0 + timedelta(seconds=91)) == 0  # still running: 09:01 is skipped
    finish_all(app)
    assert fire(app, T0 + timedelta(seconds=95)) == 0  # and not fired late
    assert fire(app, T0 + timedelta(seconds=151)) == 1  # 09:02
    assert len(runs_of(app, agent_id)) == 2


def test_disabled_agents_never_fire_and_edits_apply_at_once(app, api):
    [agent_id] = make_agents(app, schedule="0 12 * * *")
    assert fire(app, T0 + timedelta(seconds=31)) == 0
    # Disable, then re-time: nothing fires while disabled.
    api.patch(f"/api/agents/{agent_id}", json={"enabled": False, "schedule": "* * * * *"})
    assert fire(app, datetime.now(UTC) + timedelta(minutes=1)) == 0
    # Enabling counts from now: the next whole minute fires, nothing before it.
    api.patch(f"/api/agents/{agent_id}", json={"enabled": True})
    assert fire(app, datetime.now(UTC)) == 0
    assert fire(app, datetime.now(UTC) + timedelta(seconds=61)) == 1


def test_the_clock_uses_the_configured_timezone(app, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "America/New_York")
    [agent_id] = make_agents(app, schedule="0 9 * * *", at=datetime(2026, 1, 15, 13, 0, tzinfo=UTC))
    assert fire(app, datetime(2026, 1, 15, 9, 0, 30, tzinfo=UTC)) == 0  # 04:00 in New York
    assert fire(app, datetime(2026, 1, 15, 14, 0, 1, tzinfo=UTC)) == 1  # 09:00 EST
    [run] = runs_of(app, agent_id)
    assert run.status == "running"


def test_catch_up_runs_once_within_the_grace_window(app):
    [agent_id] = make_agents(app)
    # The clock was down from 08:59:30 to 09:05:10: five instants were missed; one run.
    assert fire(app, T0 + timedelta(minutes=5, seconds=40)) == 1
    assert len(runs_of(app, agent_id)) == 1
    finish_all(app)
    assert fire(app, T0 + timedelta(minutes=5, seconds=50)) == 0


def test_instants_missed_beyond_the_grace_window_are_skipped(app):
    [agent_id] = make_agents(app, schedule="0 * * * *")
    # Down from 08:59:30 to 09:30: the 09:00 run is 30 minutes late; it is not run.
    assert fire(app, T0 + timedelta(minutes=30, seconds=30)) == 0
    assert fire(app, T0 + timedelta(minutes=31)) == 0
    assert runs_of(app, agent_id) == []
    assert fire(app, T0 + timedelta(minutes=60, seconds=35)) == 1  # 10:00 fires normally


def test_a_restarted_clock_with_lost_state_does_not_fire_twice(app):
    [agent_id] = make_agents(app)
    assert fire(app, T0 + timedelta(seconds=31)) == 1
    finish_all(app)
    with app.app_context():  # the last-fire record is gone; the claim still holds
        redis_client().delete(agent_schedule._last_key())
    assert fire(app, T0 + timedelta(seconds=40)) == 0
    assert len(runs_of(app, agent_id)) == 1


def test_concurrent_clocks_claim_each_instant_exactly_once(app):
    ids = make_agents(app, 200)
    now = T0 + timedelta(seconds=31)
    claimed: list[list] = [[], [], [], []]
    barrier = threading.Barrier(4)

    def clock(index):
        with app.app_context():
            barrier.wait()
            claimed[index] = [(a.id, t) for a, t in agent_schedule.due_agents(now)]
            db.session.remove()

    threads = [threading.Thread(target=clock, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    everything = [pair for part in claimed for pair in part]
    assert len(everything) == len(set(everything)) == 200
    assert {agent_id for agent_id, _ in everything} == set(ids)


@pytest.mark.slow
def test_two_clock_processes_fire_every_agent_once(app, app_env, tmp_path):
    """Real clocks, real minute boundary: every agent gets exactly one run per minute."""
    now = datetime.now(UTC)
    if now.second > 50:  # keep the wait below a minute and a bit
        time.sleep(61 - now.second)
    ids = make_agents(app, 50, at=datetime.now(UTC))
    env = child_env(app_env, COGNOVA_CLOCK_TICK="0.2")
    clocks = [Proc([*FLASK, "clock"], env, tmp_path / f"clock-{i}.log") for i in range(2)]
    boundary = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    try:
        wait_for(
            lambda: len(runs_of(app)) >= 50,
            (boundary - datetime.now(UTC)).total_seconds() + 20,
            0.25,
            "the minute's runs",
        )
        time.sleep(1.5)
        runs = runs_of(app)
        per_agent = dict.fromkeys(ids, 0)
        for run in runs:
            per_agent[run.agent_id] += 1
        assert set(per_agent.values()) == {1}, per_agent
        delays = [(run.started_at - boundary).total_seconds() for run in runs]
        assert max(delays) < 2.0, delays
    finally:
        for proc in clocks:
            proc.stop()
