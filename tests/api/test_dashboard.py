"""The dashboard (API.md §19)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cognova.extensions import db
from cognova.models import (
    Conversation,
    CronAgent,
    CronAgentRun,
    Document,
    TokenUsage,
)
from cognova.services.dashboard import local_day

DATA_KEYS = {
    "tasksDueToday",
    "overdueTasks",
    "taskCounts",
    "recentDocuments",
    "recentConversations",
    "usage",
    "agents",
    "upcomingReminders",
}


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_task(client, title, **fields):
    response = client.post("/api/tasks", json={"title": title, **fields})
    assert response.status_code == 201, response.json
    return response.json["data"]


def test_local_day_follows_the_javascript_offset_convention():
    now = datetime(2026, 2, 18, 3, 0, tzinfo=UTC)
    assert local_day(now, 0) == (
        datetime(2026, 2, 18, tzinfo=UTC),
        datetime(2026, 2, 19, tzinfo=UTC),
    )
    # UTC-5 (offset 300): 03:00Z is 22:00 on the 17th locally
    start, end = local_day(now, 300)
    assert start == datetime(2026, 2, 17, 5, tzinfo=UTC) and end - start == timedelta(days=1)
    # UTC+14 (offset -840): already the 18th, 17:00 locally
    start, _ = local_day(now, -840)
    assert start == datetime(2026, 2, 17, 10, tzinfo=UTC)


def test_empty_dashboard_has_every_key(api):
    response = api.get("/api/dashboard")
    assert response.status_code == 200
    data = response.json["data"]
    assert set(data) == DATA_KEYS
    assert data["taskCounts"] == {"todo": 0, "in_progress": 0, "done": 0, "blocked": 0, "total": 0}
    assert data["usage"] == {
        "period": "7d",
        "costUsd": 0,
        "calls": 0,
        "inputTokens": 0,
        "outputTokens": 0,
    }
    assert data["agents"] == {"total": 0, "active": 0, "running": 0, "recentFailures": []}
    for key in ("tasksDueToday", "overdueTasks", "recentDocuments", "recentConversations"):
        assert data[key] == []


@pytest.mark.parametrize("offset", [0, 300, -840])
def test_due_today_and_overdue(api, offset):
    start, end = local_day(datetime.now(UTC), offset)
    make_task(api, "today-start", dueDate=iso(start))
    make_task(api, "today-end", dueDate=iso(end - timedelta(seconds=1)))
    make_task(api, "tomorrow", dueDate=iso(end))
    make_task(api, "yesterday", dueDate=iso(start - timedelta(seconds=1)))
    make_task(api, "last-week", dueDate=iso(start - timedelta(days=7)))
    make_task(api, "done-today", dueDate=iso(start), status="done")
    gone = make_task(api, "deleted-overdue", dueDate=iso(start - timedelta(days=1)))
    api.delete(f"/api/tasks/{gone['id']}")
    make_task(api, "no-date", status="blocked")
    data = api.get(f"/api/dashboard?tzOffset={offset}").json["data"]
    assert [t["title"] for t in data["tasksDueToday"]] == ["today-start", "today-end"]
    assert [t["title"] for t in data["overdueTasks"]] == ["last-week", "yesterday"]
    assert data["taskCounts"] == {"todo": 5, "in_progress": 0, "done": 1, "blocked": 1, "total": 7}
    assert data["tasksDueToday"][0]["creator"] is not None


@pytest.mark.parametrize("value", ["841", "-841", "abc", "1.5"])
def test_bad_tz_offset(api, value):
    response = api.get(f"/api/dashboard?tzOffset={value}")
    assert response.status_code == 400 and "tzOffset" in response.json["errors"]


def test_upcoming_reminders_skip_sent_and_deleted_tasks(api):
    now = datetime.now(UTC)
    live = make_task(api, "live")
    gone = make_task(api, "gone")
    for i, when in enumerate([now + timedelta(hours=1), now - timedelta(hours=2)]):
        api.post(
            "/api/reminders",
            json={"message": f"r{i}", "remindAt": iso(when), "taskId": live["id"]},
        )
    api.post("/api/reminders", json={"message": "loose", "remindAt": iso(now + timedelta(days=1))})
    api.post(
        "/api/reminders",
        json={"message": "of deleted", "remindAt": iso(now), "taskId": gone["id"]},
    )
    api.delete(f"/api/tasks/{gone['id']}")
    for i in range(5):
        api.post(
            "/api/reminders",
            json={"message": f"far{i}", "remindAt": iso(now + timedelta(days=30 + i))},
        )
    upcoming = api.get("/api/dashboard").json["data"]["upcomingReminders"]
    assert [r["message"] for r in upcoming] == ["r1", "r0", "loose", "far0", "far1"]


def test_other_areas_from_their_tables(app, api):
    now = datetime.now(UTC)
    with app.app_context():
        for i in range(7):
            db.session.add(
                Document(
                    title=f"doc{i}",
                    path=f"notes/doc{i}.md",
                    content="# hi",
                    file_type="md",
                    created_at=now - timedelta(hours=10 - i),
                    modified_at=None,
                )
            )
        db.session.add(
            Document(
                title="picture",
                path="pic.png",
                content=None,
                file_type="png",
                mime_type="image/png",
                created_at=now - timedelta(days=9),
                modified_at=now,
            )
        )
        db.session.add(
            Document(
                title="gone",
                path="gone.txt",
                content="x",
                file_type="txt",
                created_at=now,
                deleted_at=now,
            )
        )
        for i in range(6):
            db.session.add(
                Conversation(session_id=str(uuid.uuid4()), started_at=now - timedelta(hours=i))
            )
        db.session.add_all(
            [
                TokenUsage(source="chat", input_tokens=100, output_tokens=50, cost_usd=0.25),
                TokenUsage(source="agent", input_tokens=10, output_tokens=5, cost_usd=0.5),
                TokenUsage(
                    source="chat",
                    input_tokens=999,
                    output_tokens=999,
                    cost_usd=9,
                    created_at=now - timedelta(days=8),
                ),
            ]
        )
        agent = CronAgent(name="Digest", schedule="0 9 * * *", prompt="p", enabled=True)
        idle = CronAgent(name="Idle", schedule="0 9 * * *", prompt="p", enabled=False)
        db.session.add_all([agent, idle])
        db.session.flush()
        db.session.add_all(
            [
                CronAgentRun(agent_id=agent.id, status="running", started_at=now),
                CronAgentRun(
                    agent_id=agent.id,
                    status="error",
                    error="boom",
                    started_at=now - timedelta(hours=1),
                ),
                CronAgentRun(
                    agent_id=idle.id,
                    status="budget_exceeded",
                    started_at=now - timedelta(hours=2),
                ),
                CronAgentRun(agent_id=idle.id, status="error", started_at=now - timedelta(days=8)),
                CronAgentRun(agent_id=idle.id, status="success", started_at=now),
            ]
        )
        db.session.commit()
    data = api.get("/api/dashboard").json["data"]
    docs = data["recentDocuments"]
    assert [d["title"] for d in docs] == ["picture", "doc6", "doc5", "doc4", "doc3"]
    assert docs[0]["kind"] == "binary" and docs[1]["kind"] == "markdown"
    assert "content" not in docs[0] and docs[0]["path"] == "pic.png"
    assert len(data["recentConversations"]) == 5
    started = [c["startedAt"] for c in data["recentConversations"]]
    assert started == sorted(started, reverse=True)
    usage = data["usage"]
    assert usage["calls"] == 2 and usage["inputTokens"] == 110 and usage["outputTokens"] == 55
    assert usage["costUsd"] == pytest.approx(0.75)
    agents = data["agents"]
    assert (agents["total"], agents["active"], agents["running"]) == (2, 1, 1)
    assert [(f["agentName"], f["status"]) for f in agents["recentFailures"]] == [
        ("Digest", "error"),
        ("Idle", "budget_exceeded"),
    ]
    assert agents["recentFailures"][0]["error"] == "boom"
