"""Firing due reminders (API.md §6.1): exactly once, never for deleted tasks, then delivered."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa

from cognova.clock import DUTIES, Clock, load_duties
from cognova.extensions import db, queue, redis_client, redis_key
from cognova.jobs.reminders import fire_reminders
from cognova.models import Reminder
from cognova.services import reminders
from cognova.services.notifications import channel
from tests.jobs.test_webhooks import Hook

PAST = "2020-01-01T00:00:00Z"


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def add_reminder(client, message="Call the bank", remind_at=PAST, task_id=None):
    body = {"message": message, "remindAt": remind_at, "taskId": task_id}
    response = client.post("/api/reminders", json=body)
    assert response.status_code == 201, response.json
    return response.json["data"]


def bulk_due(app, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    with app.app_context():
        db.session.execute(
            sa.insert(Reminder),
            [
                {"id": i, "message": f"r{n}", "remind_at": datetime(2020, 1, 1, tzinfo=UTC)}
                for n, i in enumerate(ids)
            ],
        )
        db.session.commit()
    return ids


def notified(app) -> dict[str, bool]:
    with app.app_context():
        rows = db.session.execute(sa.select(Reminder.id, Reminder.notified)).all()
        return {str(i): n for i, n in rows}


class Events:
    """Collects resource_change events from Redis pub/sub."""

    def __init__(self, app):
        with app.app_context():
            self.pubsub = redis.Redis.from_url(app.config["REDIS_URL"]).pubsub()
            self.pubsub.subscribe(channel())
        self.pubsub.get_message(timeout=1)

    def drain(self) -> list[dict]:
        seen = []
        while (message := self.pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] == "message":
                seen.append(json.loads(message["data"]))
        return seen


@pytest.fixture
def events(app):
    collector = Events(app)
    yield collector
    collector.pubsub.close()


def test_due_reminders_fire_once_with_an_event(app, api, events):
    due = add_reminder(api, message="Call the bank")
    later = add_reminder(api, remind_at=iso(datetime.now(UTC) + timedelta(hours=1)))
    events.drain()
    with app.app_context():
        assert fire_reminders() == 1
        assert fire_reminders() == 0
    state = notified(app)
    assert state == {due["id"]: True, later["id"]: False}
    fired = [e for e in events.drain() if e["action"] == "complete"]
    assert len(fired) == 1
    assert fired[0]["resource"] == "reminder" and fired[0]["resourceId"] == due["id"]
    assert fired[0]["resourceName"] == "Call the bank" and fired[0]["color"] == "success"
    shown = api.get(f"/api/reminders/{due['id']}").json["data"]
    assert shown["notified"] is True and shown["status"] == "sent"


def test_deleted_tasks_do_not_fire_until_restored(app, api):
    task = api.post("/api/tasks", json={"title": "Pay rent"}).json["data"]
    reminder = add_reminder(api, task_id=task["id"])
    api.delete(f"/api/tasks/{task['id']}")
    with app.app_context():
        assert fire_reminders() == 0
    assert notified(app) == {reminder["id"]: False}
    api.post(f"/api/tasks/{task['id']}/restore")
    with app.app_context():
        assert fire_reminders() == 1
    assert notified(app) == {reminder["id"]: True}


def test_snoozed_and_rescheduled_reminders_fire_again(app, api):
    reminder = add_reminder(api)
    with app.app_context():
        assert fire_reminders() == 1
    api.put(f"/api/reminders/{reminder['id']}", json={"remindAt": "2020-01-02T00:00:00Z"})
    with app.app_context():
        assert fire_reminders() == 1
    api.post(f"/api/reminders/{reminder['id']}/snooze", json={"minutes": 1})
    with app.app_context():
        assert fire_reminders() == 0


def test_two_concurrent_clocks_fire_each_reminder_exactly_once(app, user, events):
    ids = bulk_due(app, 400)
    events.drain()
    start = threading.Barrier(2)
    fired: list[list[str]] = [[], []]
    errors: list[BaseException] = []

    def clock(slot: int):
        try:
            with app.app_context():
                start.wait()
                reminders.fire_due(lambda batch: fired[slot].extend(str(f.id) for f in batch))
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=clock, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert set(fired[0]).isdisjoint(fired[1])
    assert sorted(fired[0] + fired[1]) == sorted(str(i) for i in ids)
    complete = [e["resourceId"] for e in events.drain() if e["action"] == "complete"]
    assert sorted(complete) == sorted(str(i) for i in ids)
    assert all(notified(app).values())


def test_a_claim_that_lost_the_race_changes_nothing(app, user):
    (reminder_id,) = bulk_due(app, 1)
    with app.app_context():
        assert reminders.claim(reminder_id) is not None
        db.session.commit()
        assert reminders.claim(reminder_id) is None
        db.session.rollback()


def test_a_crash_after_the_claim_is_finished_by_the_next_tick(app, user, events):
    committed, rolled_back = bulk_due(app, 2)
    with app.app_context():
        # a clock claimed and committed one reminder, then died before announcing it;
        # its other claim never committed
        assert reminders.claim(committed) is not None
        db.session.commit()
        old = time.time() - reminders.OUTBOX_GRACE_SECONDS - 1
        redis_client().zadd(
            redis_key("reminders", "outbox"), {str(committed): old, str(rolled_back): old}
        )
    events.drain()
    delivered: list[str] = []
    with app.app_context():
        fired = reminders.fire_due(lambda batch: delivered.extend(str(f.id) for f in batch))
        assert redis_client().zcard(redis_key("reminders", "outbox")) == 0
    assert fired == 1  # the rolled-back one, fired normally
    assert sorted(delivered) == sorted([str(committed), str(rolled_back)])
    complete = [e["resourceId"] for e in events.drain() if e["action"] == "complete"]
    assert sorted(complete) == sorted([str(committed), str(rolled_back)])


def test_recent_outbox_entries_belong_to_a_live_clock(app, user):
    (reminder_id,) = bulk_due(app, 1)
    with app.app_context():
        reminders.claim(reminder_id)
        db.session.commit()
        redis_client().zadd(redis_key("reminders", "outbox"), {str(reminder_id): time.time()})
        delivered: list = []
        reminders.fire_due(delivered.extend)
        assert delivered == []
        assert redis_client().zcard(redis_key("reminders", "outbox")) == 1


def test_the_clock_runs_the_firing_duty(app, api):
    load_duties()
    assert DUTIES["fire-reminders"].every <= 30
    reminder = add_reminder(api)
    clock = Clock(app, tick=0.1)
    try:
        assert "fire-reminders" in clock.step()
    finally:
        with app.app_context():
            clock._drop_lock_conn()
    assert notified(app) == {reminder["id"]: True}


def test_no_webhook_job_without_a_url(app, api):
    add_reminder(api)
    with app.app_context():
        fire_reminders()
        assert queue("default").count == 0


def test_webhook_is_posted_by_a_worker(app, api, run_jobs):
    hook = Hook()
    try:
        saved = api.put("/api/settings", json={"notifications": {"webhookUrl": hook.url}})
        assert saved.status_code == 200, saved.json
        task = api.post("/api/tasks", json={"title": "Pay rent"}).json["data"]
        reminder = add_reminder(api, message="Rent is due", task_id=task["id"])
        loose = add_reminder(api, message="Stretch")
        with app.app_context():
            assert fire_reminders() == 2
            assert queue("default").count == 1  # one delivery job per batch
        run_jobs(["default"])
        bodies = {r["body"]["reminder"]["id"]: r for r in hook.requests}
        assert set(bodies) == {reminder["id"], loose["id"]}
        sent = bodies[reminder["id"]]
        assert sent["headers"]["X-Cognova-Event"] == "reminder.fired"
        body = sent["body"]
        assert body["event"] == "reminder.fired" and body["firedAt"].endswith("Z")
        assert body["reminder"] == {
            "id": reminder["id"],
            "message": "Rent is due",
            "remindAt": "2020-01-01T00:00:00.000Z",
            "taskId": task["id"],
        }
        assert body["task"] == {"id": task["id"], "title": "Pay rent"}
        assert bodies[loose["id"]]["body"]["task"] is None
    finally:
        hook.close()


def test_many_fired_reminders_are_delivered_by_batch_jobs_once_each(app, api, run_jobs):
    from cognova.jobs.reminders import WEBHOOK_BATCH

    hook = Hook()
    try:
        api.put("/api/settings", json={"notifications": {"webhookUrl": hook.url}})
        ids = bulk_due(app, 2 * WEBHOOK_BATCH + 7)
        with app.app_context():
            assert fire_reminders() == len(ids)
            assert queue("default").count == 3
        run_jobs(["default"])
        sent = [r["body"]["reminder"]["id"] for r in hook.requests]
        assert sorted(sent) == sorted(str(i) for i in ids)
    finally:
        hook.close()


def test_claiming_skips_rows_another_clock_holds(app, user):
    held, free = sorted(bulk_due(app, 2))
    with app.app_context():
        other = db.engine.connect()
        try:
            other.execute(sa.text("SELECT 1 FROM reminders WHERE id = :i FOR UPDATE"), {"i": held})
            fired = reminders.claim_due(datetime.now(UTC))
            assert [f.id for f in fired] == [free]
            db.session.commit()
        finally:
            other.rollback()
            other.close()
        assert [f.id for f in reminders.claim_due(datetime.now(UTC))] == [held]
        db.session.commit()
        assert reminders.claim_due(datetime.now(UTC)) == []


def test_a_failed_webhook_never_undoes_notified(app, api, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS", (0.01, 0.01, 0.01))
    hook = Hook([500])
    try:
        api.put("/api/settings", json={"notifications": {"webhookUrl": hook.url}})
        reminder = add_reminder(api)
        with app.app_context():
            fire_reminders()
        run_jobs(["default"])
        assert len(hook.requests) == 4
    finally:
        hook.close()
    assert notified(app) == {reminder["id"]: True}
    with app.app_context():
        assert fire_reminders() == 0
