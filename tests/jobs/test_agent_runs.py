"""Agent runs executed by real RQ workers against the Anthropic API double (API.md §11.3):
outcomes, usage, budgets, failures and stalls that end as errors, cancellation from another
process, and runs orphaned by a worker killed with SIGKILL."""

from __future__ import annotations

import signal
import time
import uuid

import pytest
import sqlalchemy as sa
from rq.job import Job

from cognova.extensions import db, queue, redis_client
from cognova.models.agents import CronAgent, CronAgentRun
from cognova.models.system import TokenUsage
from cognova.services import agent_runs, notifications
from tests.fakes.anthropic_double import AnthropicDouble, Reply, error, text, tool_use
from tests.jobs.processes import FLASK, Proc, child_env, wait_for

KEY = "test-key"


@pytest.fixture
def double(app, monkeypatch):
    server = AnthropicDouble().start()
    monkeypatch.setitem(app.config, "ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setitem(app.config, "ANTHROPIC_API_KEY", KEY)
    monkeypatch.setitem(app.config, "ANTHROPIC_MAX_RETRIES", 0)
    yield server
    server.stop()


@pytest.fixture
def events(monkeypatch):
    seen: list[dict] = []
    monkeypatch.setattr(notifications, "publish_now", seen.append)
    return seen


def create_agent(api, **fields) -> str:
    body = {"name": "Planner", "schedule": "0 9 * * *", "prompt": "Plan my day.", **fields}
    response = api.post("/api/agents", json=body)
    assert response.status_code == 201, response.json
    return response.json["data"]["id"]


def start(api, agent_id) -> str:
    response = api.post(f"/api/agents/{agent_id}/run")
    assert response.status_code == 202, response.json
    return response.json["data"]["runId"]


def run_row(app, run_id) -> CronAgentRun:
    with app.app_context():
        row = db.session.get(CronAgentRun, uuid.UUID(run_id))
        db.session.expunge_all()
        return row


def usage_rows(app) -> list[TokenUsage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(TokenUsage)))
        db.session.expunge_all()
        return rows


# ------------------------------------------------------------------ outcomes


def test_a_run_with_a_tool_call_succeeds(api, app, double, events, run_jobs):
    double.push(
        tool_use("get_current_time", {}, text="Checking the time."),
        text("## Plan\nAll done."),
    )
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    run_jobs(["agents"])

    run = api.get(f"/api/agents/{agent_id}/runs/{run_id}").json["data"]
    assert run["status"] == "success", run
    assert run["output"].endswith("## Plan\nAll done.")
    assert run["error"] is None
    assert run["numTurns"] == 2
    assert run["inputTokens"] > 0 and run["outputTokens"] > 0
    assert run["costUsd"] > 0
    assert run["durationMs"] >= 0 and run["completedAt"] is not None
    [call] = run["toolCalls"]
    assert call["name"] == "get_current_time" and call["isError"] is False
    assert "utc" in call["result"].lower()

    agent = api.get(f"/api/agents/{agent_id}").json["data"]
    assert agent["lastStatus"] == "success" and agent["isRunning"] is False
    assert agent["lastRunAt"] == run["startedAt"]

    [usage] = usage_rows(app)
    assert (usage.source, usage.source_id, usage.source_name) == ("agent", run_id, "Planner")
    assert usage.num_turns == 2 and usage.input_tokens == run["inputTokens"]
    assert [e["action"] for e in events if e["resource"] == "agent"] == [
        "create",
        "run",
        "complete",
    ]
    # The model got the prompt and the tools, with an agent's system prompt.
    first = double.requests[0]["body"]
    assert first["messages"][0]["content"] in (
        "Plan my day.",
        [{"type": "text", "text": "Plan my day."}],
    )
    assert any(t["name"] == "get_current_time" for t in first["tools"])
    assert "Planner" in str(first["system"])


def test_the_budget_stops_a_run_before_an_expensive_call(api, app, double, events, run_jobs):
    double.push(tool_use("get_current_time", {}), text("never reached"))
    agent_id = create_agent(api, maxBudgetUsd=0.01)
    run_id = start(api, agent_id)
    run_jobs(["agents"])
    run = run_row(app, run_id)
    assert run.status == "budget_exceeded"
    assert (run.cost_usd or 0) <= 0.01
    assert run.completed_at is not None
    assert [e["action"] for e in events][-1] == "fail"
    assert len(usage_rows(app)) == 1
    # The worst case of the first call (8192 output tokens) is over $0.01: no call was made.
    assert double.requests == []


def test_an_api_error_ends_the_run_as_error(api, app, double, events, run_jobs):
    double.push(error(500, "Internal failure"))
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    run_jobs(["agents"])
    run = run_row(app, run_id)
    assert run.status == "error"
    assert "Anthropic API" in run.error
    assert events[-1]["action"] == "fail"
    with app.app_context():
        assert db.session.get(CronAgent, uuid.UUID(agent_id)).last_status == "error"


def test_max_turns_ends_the_run_as_error(api, app, double, run_jobs):
    double.push(*[tool_use("get_current_time", {}) for _ in range(3)])
    agent_id = create_agent(api, maxTurns=2)
    run_id = start(api, agent_id)
    run_jobs(["agents"])
    run = run_row(app, run_id)
    assert run.status == "error" and "maximum of 2 turns" in run.error
    assert run.num_turns == 2


def test_a_stalled_api_ends_the_run_after_the_timeout(api, app, double, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "AGENT_RUN_TIMEOUT", 2)
    double.push(text("too late", first_delay=30))
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    began = time.monotonic()
    run_jobs(["agents"])
    took = time.monotonic() - began
    run = run_row(app, run_id)
    assert run.status == "error"
    assert run.error == "Run timed out after 2 s"
    assert took < 15


def test_a_stream_that_stalls_midway_ends_after_the_timeout(
    api, app, double, run_jobs, monkeypatch
):
    monkeypatch.setitem(app.config, "AGENT_RUN_TIMEOUT", 2)
    double.push(Reply(blocks=[{"type": "text", "text": "slow " * 40}], chunk=2, delay=0.5))
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    began = time.monotonic()
    run_jobs(["agents"])
    assert time.monotonic() - began < 15
    run = run_row(app, run_id)
    assert run.status == "error" and run.error == "Run timed out after 2 s"
    assert run.output  # the partial text is kept


def test_a_run_cancelled_while_queued_never_calls_the_model(api, app, double, run_jobs):
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    assert api.post(f"/api/agents/{agent_id}/cancel").json["data"] == {"cancelledCount": 1}
    run_jobs(["agents"])
    assert run_row(app, run_id).status == "cancelled"
    assert double.requests == []


def test_a_run_of_a_deleted_agent_is_skipped(api, app, double, run_jobs):
    agent_id = create_agent(api)
    start(api, agent_id)
    api.delete(f"/api/agents/{agent_id}")
    run_jobs(["agents"])
    assert double.requests == []
    assert usage_rows(app) == []


# ------------------------------------------------------------------ other processes


def _worker(app_env, double, tmp_path, name="worker") -> Proc:
    env = child_env(
        app_env,
        ANTHROPIC_BASE_URL=double.url,
        ANTHROPIC_API_KEY=KEY,
        ANTHROPIC_MAX_RETRIES="0",
    )
    return Proc([*FLASK, "worker", "--queue", "agents"], env, tmp_path / f"{name}.log")


def _slow_reply() -> Reply:
    # About a minute of streaming: far longer than any test waits.
    return Reply(blocks=[{"type": "text", "text": "word " * 300}], chunk=5, delay=0.2)


def _beating(app, run_id) -> bool:
    with app.app_context():
        return agent_runs.last_beat(run_id) is not None


@pytest.mark.slow
def test_cancel_from_another_process_stops_the_worker_within_seconds(
    api, app, app_env, double, tmp_path
):
    double.push(_slow_reply())
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    worker = _worker(app_env, double, tmp_path)
    try:
        wait_for(lambda: _beating(app, run_id) and double.requests, 60, what="the run to start")
        time.sleep(0.5)
        cancelled_at = time.monotonic()
        assert api.post(f"/api/agents/{agent_id}/cancel").status_code == 200

        def job_done():
            with app.app_context():
                job = Job.fetch(run_id, connection=redis_client())
                return job.get_status() == "finished"

        wait_for(job_done, 10, what=f"the worker to stop\n{worker.output()}")
        assert time.monotonic() - cancelled_at < 5
        run = run_row(app, run_id)
        assert run.status == "cancelled"
        assert run.output is None and run.error is None
        [usage] = usage_rows(app)  # what the partial stream cost is still on the ledger
        assert usage.source_id == run_id
        assert worker.popen.poll() is None  # the worker itself lives on
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_closed_as_worker_lost(api, app, app_env, double, tmp_path):
    double.push(_slow_reply())
    agent_id = create_agent(api)
    run_id = start(api, agent_id)
    worker = _worker(app_env, double, tmp_path)
    try:
        wait_for(lambda: _beating(app, run_id), 60, what="the run to start")
        # A live worker's run is never touched by the sweeper.
        with app.app_context():
            assert agent_runs.sweep_orphans() == 0
        assert run_row(app, run_id).status == "running"

        worker.signal_group(signal.SIGKILL)
        worker.wait(10)
        with app.app_context():
            beat = agent_runs.last_beat(run_id)
            job = Job.fetch(run_id, connection=redis_client())
            assert job.get_status() == "started"  # RQ itself does not know yet
            # The heartbeat is now silent; once it is older than the threshold the run is lost.
            stale = 2.0
            wait_for(lambda: time.time() - beat > stale, 5)
            assert agent_runs.sweep_orphans(stale_after=stale) == 1
        run = run_row(app, run_id)
        assert run.status == "error" and run.error == "Worker lost"
        assert run.completed_at is not None and run.duration_ms is not None
        agent = api.get(f"/api/agents/{agent_id}").json["data"]
        assert agent["isRunning"] is False and agent["lastStatus"] == "error"
    finally:
        worker.stop()


def _backdate(app, run_id, seconds):
    with app.app_context():
        db.session.execute(
            sa.update(CronAgentRun)
            .where(CronAgentRun.id == uuid.UUID(run_id))
            .values(started_at=sa.func.now() - sa.text(f"interval '{int(seconds)} seconds'"))
        )
        db.session.commit()


def test_sweeper_closes_runs_whose_job_is_gone_and_keeps_queued_ones(api, app, double):
    agent_id = create_agent(api)
    queued = start(api, agent_id)
    other = create_agent(api, name="Other")
    lost = start(api, other)
    with app.app_context():
        Job.fetch(lost, connection=redis_client()).delete()
    # Young runs are left alone: their job may not have reached the queue yet.
    with app.app_context():
        assert agent_runs.sweep_orphans() == 0
    _backdate(app, queued, 120)
    _backdate(app, lost, 120)
    with app.app_context():
        assert agent_runs.sweep_orphans() == 1
        assert len(queue("agents")) == 1
    assert run_row(app, queued).status == "running"
    lost_row = run_row(app, lost)
    assert lost_row.status == "error" and lost_row.error == "Worker lost"
    assert lost_row.duration_ms >= 119_000
