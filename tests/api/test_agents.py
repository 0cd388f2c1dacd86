"""Agents API (API.md §11): CRUD, validation, manual runs, cancel, history, stats, preview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cognova.extensions import db, redis_client
from cognova.models.agents import CronAgent, CronAgentRun
from cognova.services import agent_runs, notifications

AGENT = {"name": "Morning brief", "schedule": "0 9 * * *", "prompt": "Summarise my day."}


@pytest.fixture
def events(monkeypatch):
    """resource_change events published after commits, in order."""
    seen: list[dict] = []
    monkeypatch.setattr(notifications, "publish_now", seen.append)
    return seen


@pytest.fixture
def ai_key(app, monkeypatch):
    monkeypatch.setitem(app.config, "ANTHROPIC_API_KEY", "test-key")


def create(api, **fields) -> dict:
    response = api.post("/api/agents", json={**AGENT, **fields})
    assert response.status_code == 201, response.json
    return response.json["data"]


def add_run(app, agent_id, status="success", started=None, **values) -> str:
    with app.app_context():
        run = CronAgentRun(
            id=uuid.uuid4(),
            agent_id=uuid.UUID(agent_id),
            status=status,
            started_at=started or datetime.now(UTC),
            completed_at=None if status == "running" else (started or datetime.now(UTC)),
            **values,
        )
        db.session.add(run)
        db.session.commit()
        return str(run.id)


# ------------------------------------------------------------------ create and read


def test_create_returns_the_full_agent(api, user, events):
    data = create(api, description="Daily", maxBudgetUsd=0.5)
    assert data["name"] == "Morning brief"
    assert data["description"] == "Daily"
    assert data["schedule"] == "0 9 * * *"
    assert data["scheduleDescription"] == "At 09:00 AM"
    assert data["enabled"] is True
    assert data["maxTurns"] == 50
    assert data["maxBudgetUsd"] == 0.5
    assert data["lastRunAt"] is None and data["lastStatus"] is None
    assert data["isRunning"] is False
    assert data["createdBy"] == user.id
    assert data["creator"] == {"id": user.id, "name": user.name}
    next_run = datetime.fromisoformat(data["nextRunAt"].replace("Z", "+00:00"))
    assert next_run > datetime.now(UTC)
    assert (next_run.hour, next_run.minute, next_run.second) == (9, 0, 0)
    assert data["createdAt"].endswith("Z") and data["updatedAt"].endswith("Z")
    assert [(e["resource"], e["action"]) for e in events] == [("agent", "create")]


def test_a_disabled_agent_has_no_next_run(api):
    assert create(api, enabled=False)["nextRunAt"] is None


def test_schedule_is_trimmed_and_normalised(api):
    assert create(api, schedule="  */15   * * * * ")["schedule"] == "*/15 * * * *"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("* * * * * *", "must have 5 fields"),
        ("* * * *", "must have 5 fields"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("@daily", "must have 5 fields"),
        ("61 * * * *", "invalid value '61' in minute field"),
        ("0 24 * * *", "invalid value '24' in hour field"),
        ("0 0 32 * *", "invalid value '32' in day-of-month field"),
        ("0 0 0 * *", "invalid value '0' in day-of-month field"),
        ("0 0 * 13 *", "invalid value '13' in month field"),
        ("0 0 * * 8", "invalid value '8' in day-of-week field"),
        ("a b c d e", "invalid value 'a' in minute field"),
        ("*/0 * * * *", "invalid step '0' in minute field"),
        ("0 0 31 2 *", "never matches any date"),
    ],
)
def test_invalid_schedules_are_explained(api, schedule, message):
    response = api.post("/api/agents", json={**AGENT, "schedule": schedule})
    assert response.status_code == 400
    assert response.json["errors"]["schedule"] == message


def test_schedule_must_be_a_string(api):
    response = api.post("/api/agents", json={**AGENT, "schedule": 5})
    assert response.status_code == 400
    assert "schedule" in response.json["errors"]


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"maxTurns": 0}, "maxTurns"),
        ({"maxTurns": 10_000}, "maxTurns"),
        ({"maxTurns": 501}, "maxTurns"),
        ({"maxTurns": 2.5}, "maxTurns"),
        ({"maxTurns": "5"}, "maxTurns"),
        ({"maxBudgetUsd": 0}, "maxBudgetUsd"),
        ({"maxBudgetUsd": -1}, "maxBudgetUsd"),
        ({"maxBudgetUsd": 1000.01}, "maxBudgetUsd"),
        ({"maxBudgetUsd": "1"}, "maxBudgetUsd"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"prompt": ""}, "prompt"),
        ({"description": "x" * 2001}, "description"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_bad_fields_are_rejected(api, fields, key):
    response = api.post("/api/agents", json={**AGENT, **fields})
    assert response.status_code == 400
    assert key in response.json["errors"]


def test_required_fields(api):
    response = api.post("/api/agents", json={})
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"name", "schedule", "prompt"}


def test_limits_at_the_edges_are_accepted(api):
    data = create(api, maxTurns=500, maxBudgetUsd=1000)
    assert data["maxTurns"] == 500 and data["maxBudgetUsd"] == 1000
    assert create(api, maxTurns=1, maxBudgetUsd=0.01)["maxTurns"] == 1


def test_list_is_ordered_by_name_and_filters_enabled(api):
    create(api, name="beta")
    create(api, name="Alpha", enabled=False)
    create(api, name="gamma")
    names = [a["name"] for a in api.get("/api/agents").json["data"]]
    assert names == ["Alpha", "beta", "gamma"]
    enabled = [a["name"] for a in api.get("/api/agents?enabled=true").json["data"]]
    assert enabled == ["beta", "gamma"]
    disabled = [a["name"] for a in api.get("/api/agents?enabled=false").json["data"]]
    assert disabled == ["Alpha"]
    assert api.get("/api/agents?enabled=maybe").status_code == 400


def test_get_unknown_and_malformed_ids(api):
    assert api.get(f"/api/agents/{uuid.uuid4()}").status_code == 404
    response = api.get("/api/agents/not-a-uuid")
    assert response.status_code == 400
    assert response.json["message"] == "Invalid id"


def test_literal_routes_are_not_ids(api):
    assert api.get("/api/agents/stats").status_code == 200
    assert api.get("/api/agents/schedule/preview?schedule=*+*+*+*+*").status_code == 200


def test_legacy_null_max_turns_reads_as_50(api, app):
    agent = create(api)
    with app.app_context():
        db.session.get(CronAgent, uuid.UUID(agent["id"])).max_turns = None
        db.session.commit()
    assert api.get(f"/api/agents/{agent['id']}").json["data"]["maxTurns"] == 50


# ------------------------------------------------------------------ update and delete


def test_patch_is_partial_and_reschedules(api, events):
    agent = create(api)
    response = api.patch(f"/api/agents/{agent['id']}", json={"schedule": "30 14 * * *"})
    assert response.status_code == 200
    data = response.json["data"]
    assert data["name"] == agent["name"]
    assert data["scheduleDescription"] == "At 02:30 PM"
    assert data["nextRunAt"].endswith("T14:30:00.000Z") or "14:30:00.000Z" in data["nextRunAt"]
    assert events[-1]["action"] == "edit"

    data = api.patch(f"/api/agents/{agent['id']}", json={"enabled": False}).json["data"]
    assert data["enabled"] is False and data["nextRunAt"] is None


def test_patch_validation(api):
    agent = create(api, maxBudgetUsd=2)
    url = f"/api/agents/{agent['id']}"
    response = api.patch(url, json={})
    assert response.status_code == 400
    assert response.json["message"] == "No updatable fields provided"
    assert api.patch(url, json={"name": None}).json["errors"]["name"] == "must not be null"
    assert api.patch(url, json={"schedule": "1 2 3"}).json["errors"]["schedule"] == (
        "must have 5 fields"
    )
    assert "maxTurns" in api.patch(url, json={"maxTurns": 0}).json["errors"]
    cleared = api.patch(url, json={"maxBudgetUsd": None, "description": None}).json["data"]
    assert cleared["maxBudgetUsd"] is None and cleared["description"] is None
    assert api.patch(f"/api/agents/{uuid.uuid4()}", json={"name": "x"}).status_code == 404


def test_delete_removes_agent_and_runs(api, app, events):
    agent = create(api)
    add_run(app, agent["id"])
    response = api.delete(f"/api/agents/{agent['id']}")
    assert response.status_code == 200
    assert response.json["data"] == {"id": agent["id"], "name": agent["name"], "deleted": True}
    assert events[-1]["action"] == "delete"
    assert api.get(f"/api/agents/{agent['id']}").status_code == 404
    assert api.delete(f"/api/agents/{agent['id']}").status_code == 404
    with app.app_context():
        assert db.session.query(CronAgentRun).count() == 0


def test_delete_cancels_a_running_run(api, app):
    agent = create(api)
    run_id = add_run(app, agent["id"], status="running")
    assert api.delete(f"/api/agents/{agent['id']}").status_code == 200
    with app.app_context():
        assert agent_runs.is_cancelled(run_id)


# ------------------------------------------------------------------ manual runs


def test_run_without_a_key_is_503_and_stores_nothing(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "ANTHROPIC_API_KEY", None)
    agent = create(api)
    response = api.post(f"/api/agents/{agent['id']}/run")
    assert response.status_code == 503
    assert response.json["message"] == "Anthropic API key is not configured"
    assert api.get(f"/api/agents/{agent['id']}/runs").json["data"] == []


def test_manual_run_creates_a_running_run(api, app, ai_key, events):
    agent = create(api, enabled=False)
    response = api.post(f"/api/agents/{agent['id']}/run")
    assert response.status_code == 202
    run_id = response.json["data"]["runId"]
    assert events[-1]["action"] == "run" and events[-1]["resourceId"] == agent["id"]
    run = api.get(f"/api/agents/{agent['id']}/runs/{run_id}").json["data"]
    assert run["status"] == "running" and run["completedAt"] is None
    data = api.get(f"/api/agents/{agent['id']}").json["data"]
    assert data["isRunning"] is True and data["lastRunAt"] == run["startedAt"]
    with app.app_context():
        from rq.job import Job

        job = Job.fetch(run_id, connection=redis_client())
        assert job.origin.endswith(".agents")


def test_second_run_conflicts_unless_forced(api, ai_key):
    agent = create(api)
    url = f"/api/agents/{agent['id']}/run"
    assert api.post(url).status_code == 202
    response = api.post(url)
    assert response.status_code == 409
    assert response.json["message"] == "Agent is already running"
    assert api.post(url + "?force=true").status_code == 202
    assert len(api.get(f"/api/agents/{agent['id']}/runs").json["data"]) == 2
    assert api.post(url + "?force=perhaps").status_code == 400


def test_running_a_deleted_agent_is_404(api, ai_key):
    agent = create(api)
    api.delete(f"/api/agents/{agent['id']}")
    assert api.post(f"/api/agents/{agent['id']}/run").status_code == 404
    assert api.post(f"/api/agents/{uuid.uuid4()}/run").status_code == 404


# ------------------------------------------------------------------ cancel


def test_cancel_when_nothing_runs_is_404(api):
    agent = create(api)
    response = api.post(f"/api/agents/{agent['id']}/cancel")
    assert response.status_code == 404
    assert response.json["message"] == "No running executions"
    assert api.post(f"/api/agents/{uuid.uuid4()}/cancel").status_code == 404


def test_cancel_marks_every_running_run(api, app, events):
    agent = create(api)
    first = add_run(app, agent["id"], "running", datetime.now(UTC) - timedelta(seconds=3))
    second = add_run(app, agent["id"], "running")
    done = add_run(app, agent["id"], "success")
    response = api.post(f"/api/agents/{agent['id']}/cancel")
    assert response.status_code == 200
    assert response.json["data"] == {"cancelledCount": 2}
    assert events[-1]["action"] == "cancel"
    runs = {r["id"]: r for r in api.get(f"/api/agents/{agent['id']}/runs").json["data"]}
    assert runs[first]["status"] == runs[second]["status"] == "cancelled"
    assert runs[first]["completedAt"] is not None and runs[first]["durationMs"] >= 2900
    assert runs[done]["status"] == "success"
    with app.app_context():
        assert agent_runs.is_cancelled(first) and agent_runs.is_cancelled(second)
        assert not agent_runs.is_cancelled(done)
    data = api.get(f"/api/agents/{agent['id']}").json["data"]
    assert data["isRunning"] is False and data["lastStatus"] == "cancelled"


# ------------------------------------------------------------------ history


def test_runs_are_newest_first_with_limit_and_period(api, app):
    agent = create(api)
    now = datetime.now(UTC)
    old = add_run(app, agent["id"], started=now - timedelta(days=3))
    mid = add_run(app, agent["id"], started=now - timedelta(hours=2), cost_usd=None)
    new = add_run(app, agent["id"], started=now - timedelta(minutes=1))
    url = f"/api/agents/{agent['id']}/runs"
    assert [r["id"] for r in api.get(url).json["data"]] == [new, mid, old]
    assert [r["id"] for r in api.get(url + "?limit=2").json["data"]] == [new, mid]
    assert [r["id"] for r in api.get(url + "?period=24h").json["data"]] == [new, mid]
    assert api.get(url + "?period=1y").status_code == 400
    assert api.get(url + "?limit=0").status_code == 400
    assert len(api.get(url + "?limit=100000").json["data"]) == 3
    assert api.get(f"/api/agents/{uuid.uuid4()}/runs").status_code == 404


def test_run_object_keys(api, app):
    agent = create(api)
    run_id = add_run(
        app,
        agent["id"],
        "success",
        output="Done",
        cost_usd=0.1,
        input_tokens=10,
        output_tokens=5,
        num_turns=2,
        duration_ms=1200,
    )
    run = api.get(f"/api/agents/{agent['id']}/runs/{run_id}").json["data"]
    assert run["costUsd"] == 0.1
    assert {k: run[k] for k in ("inputTokens", "outputTokens", "numTurns", "durationMs")} == {
        "inputTokens": 10,
        "outputTokens": 5,
        "numTurns": 2,
        "durationMs": 1200,
    }
    assert run["agentId"] == agent["id"] and run["output"] == "Done" and run["error"] is None
    assert run["toolCalls"] == []


def test_run_of_another_agent_is_404(api, app):
    mine, other = create(api), create(api, name="Other")
    run_id = add_run(app, other["id"])
    assert api.get(f"/api/agents/{mine['id']}/runs/{run_id}").status_code == 404
    assert api.get(f"/api/agents/{mine['id']}/runs/{uuid.uuid4()}").status_code == 404
    response = api.get(f"/api/agents/{mine['id']}/runs/nope")
    assert response.status_code == 400 and "runId" in response.json["errors"]


# ------------------------------------------------------------------ stats


@pytest.mark.parametrize(("period", "days"), [("24h", 2), ("7d", 8), ("30d", 31)])
def test_daily_runs_are_zero_filled(api, period, days):
    agent = create(api)
    daily = api.get(f"/api/agents/{agent['id']}/stats?period={period}").json["data"]["dailyRuns"]
    assert len(daily) == days
    assert daily[-1]["date"] == datetime.now(UTC).date().isoformat()
    assert daily[0] == {
        "date": daily[0]["date"],
        "success": 0,
        "error": 0,
        "budgetExceeded": 0,
        "cancelled": 0,
        "total": 0,
        "costUsd": 0,
    }
    assert [d["date"] for d in daily] == sorted(d["date"] for d in daily)


def test_agent_stats(api, app):
    agent = create(api)
    other = create(api, name="Other")
    now = datetime.now(UTC)
    add_run(app, agent["id"], "success", now, cost_usd=0.25, duration_ms=1000)
    add_run(app, agent["id"], "error", now, cost_usd=0.5, duration_ms=2001)
    add_run(app, agent["id"], "budget_exceeded", now, duration_ms=3000)
    add_run(app, agent["id"], "running", now, cost_usd=0.25)
    add_run(app, agent["id"], "success", now - timedelta(days=10), cost_usd=9)
    add_run(app, other["id"], "success", now, cost_usd=7)
    data = api.get(f"/api/agents/{agent['id']}/stats").json["data"]
    assert data["totalRuns"] == 4
    assert data["successRate"] == 33  # 1 of 3 finished
    assert data["avgDurationMs"] == 2000  # (1000 + 2001 + 3000) / 3, rounded
    assert data["totalCostUsd"] == 1.0
    today = data["dailyRuns"][-1]
    assert (today["success"], today["error"], today["budgetExceeded"], today["total"]) == (
        1,
        1,
        1,
        4,
    )
    assert today["costUsd"] == 1.0
    assert api.get(f"/api/agents/{agent['id']}/stats?period=30d").json["data"]["totalRuns"] == 5
    assert api.get(f"/api/agents/{uuid.uuid4()}/stats").status_code == 404
    assert api.get(f"/api/agents/{agent['id']}/stats?period=2d").status_code == 400


def test_success_rate_rounds_half_up(api, app):
    agent = create(api)
    for status in ["success"] + ["error"] * 7:  # 12.5 %
        add_run(app, agent["id"], status)
    assert api.get(f"/api/agents/{agent['id']}/stats").json["data"]["successRate"] == 13
    empty = create(api, name="Empty")
    assert api.get(f"/api/agents/{empty['id']}/stats").json["data"]["successRate"] == 0


def test_global_stats(api, app):
    first = create(api)
    second = create(api, name="Second", enabled=False)
    add_run(app, first["id"], "success", cost_usd=0.5)
    add_run(app, second["id"], "running")
    add_run(app, second["id"], "cancelled")
    data = api.get("/api/agents/stats?period=24h").json["data"]
    assert data["totalAgents"] == 2 and data["activeAgents"] == 1
    assert data["runsInPeriod"] == 3
    assert data["successRate"] == 50
    assert data["totalCostUsd"] == 0.5
    assert data["runningAgentIds"] == [second["id"]]
    assert len(data["dailyRuns"]) == 2
    assert data["dailyRuns"][-1]["cancelled"] == 1


# ------------------------------------------------------------------ preview


def test_schedule_preview(api):
    response = api.get("/api/agents/schedule/preview", query_string={"schedule": "0 9 * * 1-5"})
    assert response.status_code == 200
    data = response.json["data"]
    assert data["schedule"] == "0 9 * * 1-5"
    assert data["description"] == "At 09:00 AM, Monday through Friday"
    assert data["timezone"] == "UTC"
    assert len(data["nextRuns"]) == 5
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in data["nextRuns"]]
    assert times == sorted(times) and times[0] > datetime.now(UTC)
    assert all(t.weekday() < 5 and t.hour == 9 for t in times)


def test_schedule_preview_count_and_errors(api):
    url = "/api/agents/schedule/preview"
    every = {"schedule": "* * * * *"}
    assert len(api.get(url, query_string={**every, "count": 50}).json["data"]["nextRuns"]) == 20
    assert len(api.get(url, query_string={**every, "count": 1}).json["data"]["nextRuns"]) == 1
    assert api.get(url, query_string={**every, "count": 0}).status_code == 400
    response = api.get(url, query_string={"schedule": "61 * * * *"})
    assert response.status_code == 400
    assert response.json["errors"]["schedule"] == "invalid value '61' in minute field"
    assert "schedule" in api.get(url).json["errors"]


def test_schedules_use_the_configured_timezone(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "America/New_York")
    data = api.get("/api/agents/schedule/preview", query_string={"schedule": "0 9 * * *"}).json[
        "data"
    ]
    assert data["timezone"] == "America/New_York"
    first = datetime.fromisoformat(data["nextRuns"][0].replace("Z", "+00:00"))
    assert first.hour in (13, 14)  # 09:00 in New York is 13:00 or 14:00 UTC


def test_agents_require_authentication(client):
    assert client.get("/api/agents").status_code == 401
    assert client.post("/api/agents", json=AGENT).status_code == 401
