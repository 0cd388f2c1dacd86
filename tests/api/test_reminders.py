"""Reminders (API.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import Reminder

MISSING = "00000000-0000-4000-8000-000000000000"
KEYS = {"id", "taskId", "task", "message", "remindAt", "notified", "status", "createdAt"}


def make_reminder(client, **fields):
    body = {"message": "Call the bank", "remindAt": "2026-02-18T09:00:00Z", **fields}
    response = client.post("/api/reminders", json=body)
    assert response.status_code == 201, response.json
    return response.json["data"]


def make_task(client, title="Pay rent"):
    return client.post("/api/tasks", json={"title": title}).json["data"]


def all_reminders(client):
    return client.get("/api/reminders?limit=500").json["data"]


def mark_sent(app, reminder_id):
    with app.app_context():
        db.session.execute(
            sa.update(Reminder).where(Reminder.id == reminder_id).values(notified=True)
        )
        db.session.commit()


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_create_and_get(api):
    task = make_task(api)
    data = make_reminder(api, taskId=task["id"], message="  Call the bank  ")
    assert set(data) == KEYS
    assert data["message"] == "Call the bank"
    assert data["remindAt"] == "2026-02-18T09:00:00.000Z"
    assert data["notified"] is False and data["status"] == "pending"
    assert data["task"] == {"id": task["id"], "title": "Pay rent"}
    assert api.get(f"/api/reminders/{data['id']}").json["data"] == data
    loose = make_reminder(api)
    assert loose["taskId"] is None and loose["task"] is None


def test_list_filters_order_and_pagination(app, api):
    task = make_task(api)
    late = make_reminder(api, message="late", remindAt="2026-03-01", taskId=task["id"])
    make_reminder(api, message="early", remindAt="2026-01-01")
    mid = make_reminder(api, message="mid", remindAt="2026-02-01")
    mark_sent(app, mid["id"])

    def messages(query=""):
        response = api.get(f"/api/reminders{query}")
        assert response.status_code == 200, response.json
        return [r["message"] for r in response.json["data"]]

    assert messages() == ["early", "mid", "late"]
    assert messages(f"?taskId={task['id']}") == ["late"]
    assert messages("?status=sent") == ["mid"]
    assert messages("?status=pending") == ["early", "late"]
    assert messages("?from=2026-02-01") == ["mid", "late"]
    assert messages("?to=2026-02-01") == ["early"]
    assert messages("?from=2026-01-15&to=2026-03-01") == ["mid"]
    page = api.get("/api/reminders?limit=2&page=2").json
    assert [r["message"] for r in page["data"]] == ["late"]
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}
    assert api.get("/api/reminders?limit=1000").json["pagination"]["limit"] == 500
    assert api.get(f"/api/reminders/{mid['id']}").json["data"]["status"] == "sent"
    assert late["status"] == "pending"


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=done", "status"),
        ("taskId=nope", "taskId"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("page=0", "page"),
        ("limit=-1", "limit"),
    ],
)
def test_bad_list_queries(api, query, field):
    response = api.get(f"/api/reminders?{query}")
    assert response.status_code == 400 and field in response.json["errors"]


def test_update_resets_notified_only_when_the_instant_changes(app, api):
    reminder = make_reminder(api)
    mark_sent(app, reminder["id"])
    same = api.put(
        f"/api/reminders/{reminder['id']}",
        json={"remindAt": "2026-02-18T10:00:00+01:00", "message": "Call the bank now"},
    ).json["data"]
    assert same["notified"] is True and same["message"] == "Call the bank now"
    moved = api.put(f"/api/reminders/{reminder['id']}", json={"remindAt": "2026-02-19"}).json[
        "data"
    ]
    assert moved["notified"] is False and moved["status"] == "pending"
    assert moved["remindAt"] == "2026-02-19T00:00:00.000Z"


def test_update_task_link(api):
    task = make_task(api)
    reminder = make_reminder(api)
    linked = api.put(f"/api/reminders/{reminder['id']}", json={"taskId": task["id"]}).json["data"]
    assert linked["task"]["id"] == task["id"]
    unlinked = api.put(f"/api/reminders/{reminder['id']}", json={"taskId": None}).json["data"]
    assert unlinked["taskId"] is None and unlinked["task"] is None


def test_delete_is_hard(api):
    reminder = make_reminder(api)
    response = api.delete(f"/api/reminders/{reminder['id']}")
    assert response.status_code == 200
    assert response.json == {"data": {"id": reminder["id"], "deleted": True}}
    assert api.get(f"/api/reminders/{reminder['id']}").status_code == 404
    assert api.delete(f"/api/reminders/{reminder['id']}").status_code == 404


def test_snooze(app, api):
    reminder = make_reminder(api)
    mark_sent(app, reminder["id"])
    before = datetime.now(UTC)
    response = api.post(f"/api/reminders/{reminder['id']}/snooze", json={"minutes": 15})
    assert response.status_code == 200
    data = response.json["data"]
    assert data["notified"] is False and data["status"] == "pending"
    when = parse(data["remindAt"])
    assert before + timedelta(minutes=15) - timedelta(seconds=1) <= when
    assert when <= datetime.now(UTC) + timedelta(minutes=15)


@pytest.mark.parametrize("minutes", [0, 10081, "5", 2.5, None, True, -1])
def test_bad_snooze_changes_nothing(api, minutes):
    reminder = make_reminder(api)
    response = api.post(f"/api/reminders/{reminder['id']}/snooze", json={"minutes": minutes})
    assert response.status_code == 400 and "minutes" in response.json["errors"]
    assert api.get(f"/api/reminders/{reminder['id']}").json["data"] == reminder


def test_snooze_needs_minutes_and_an_existing_reminder(api):
    reminder = make_reminder(api)
    missing_field = api.post(f"/api/reminders/{reminder['id']}/snooze", json={})
    assert missing_field.status_code == 400 and missing_field.json["errors"] == {
        "minutes": "is required"
    }
    assert api.post(f"/api/reminders/{MISSING}/snooze", json={"minutes": 5}).status_code == 404
    bad = api.post("/api/reminders/xyz/snooze", json={"minutes": 5})
    assert bad.status_code == 400 and bad.json["message"] == "Invalid id"


def test_missing_and_malformed_ids(api):
    for method in ("get", "put", "delete"):
        response = getattr(api, method)(f"/api/reminders/{MISSING}", json={"message": "x"})
        assert response.status_code == 404
        bad = getattr(api, method)("/api/reminders/1234", json={"message": "x"})
        assert bad.status_code == 400 and bad.json["errors"] == {"id": "must be a UUID"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"remindAt": "2026-01-01"}, "message"),
        ({"message": "   ", "remindAt": "2026-01-01"}, "message"),
        ({"message": "x" * 1001, "remindAt": "2026-01-01"}, "message"),
        ({"message": 5, "remindAt": "2026-01-01"}, "message"),
        ({"message": "m"}, "remindAt"),
        ({"message": "m", "remindAt": None}, "remindAt"),
        ({"message": "m", "remindAt": "in an hour"}, "remindAt"),
        ({"message": "m", "remindAt": "2026-01-01", "taskId": "abc"}, "taskId"),
        ({"message": "m", "remindAt": "2026-01-01", "taskId": MISSING}, "taskId"),
    ],
)
def test_bad_create_bodies_change_nothing(api, body, field):
    response = api.post("/api/reminders", json=body)
    assert response.status_code == 400 and field in response.json["errors"], response.json
    assert all_reminders(api) == []


def test_deleted_task_cannot_take_reminders(api):
    task = make_task(api)
    api.delete(f"/api/tasks/{task['id']}")
    body = {"message": "m", "remindAt": "2026-01-01", "taskId": task["id"]}
    response = api.post("/api/reminders", json=body)
    assert response.status_code == 400 and "taskId" in response.json["errors"]
    reminder = make_reminder(api)
    response = api.put(f"/api/reminders/{reminder['id']}", json={"taskId": task["id"]})
    assert response.status_code == 400 and "taskId" in response.json["errors"]
    assert all_reminders(api) == [reminder]


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "No updatable fields provided"),
        ({"message": None}, "Validation failed"),
        ({"message": "  "}, "Validation failed"),
        ({"remindAt": None}, "Validation failed"),
        ({"remindAt": "soon"}, "Validation failed"),
    ],
)
def test_bad_updates_change_nothing(api, body, message):
    reminder = make_reminder(api)
    response = api.put(f"/api/reminders/{reminder['id']}", json=body)
    assert response.status_code == 400 and response.json["message"] == message
    assert all_reminders(api) == [reminder]
