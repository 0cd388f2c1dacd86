"""GET /api/notifications/stream (API.md §17), exercised over real HTTP against the live server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
import uuid
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import redis as redis_lib

from cognova.extensions import db
from cognova.services.notifications import channel, notify
from tests.conftest import API_TOKEN

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EVENT_KEYS = {
    "type",
    "resource",
    "action",
    "resourceId",
    "resourceName",
    "title",
    "message",
    "color",
    "timestamp",
}
TOKEN = {"X-API-Token": API_TOKEN}


class EventReader:
    """Splits a text/event-stream into blocks: {"event", "data", "id", "retry", "comment"}."""

    def __init__(self, response: httpx.Response):
        self.response = response
        self.lines = response.iter_lines()

    def next_block(self) -> dict:
        block: dict = {}
        for line in self.lines:
            if line == "":
                if block:
                    return block
                continue
            if line.startswith(":"):
                block["comment"] = line[1:].strip()
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                block["data"] = json.loads(value)
            else:
                block[field] = value
        raise EOFError("stream ended")

    def until_connected(self) -> None:
        assert self.next_block() == {"retry": "3000"}
        assert self.next_block()["event"] == "connected"

    def collect(self, seconds: float = 1.0) -> list[dict]:
        """Every event sent from now until a keep-alive read *seconds* later.

        Keep-alives may sit buffered while a test works, so "N keep-alives later" could mean
        "before the change"; the server sends them every 0.25 s, so one read after the window
        was written after any event published before the window closed."""
        events, end = [], time.monotonic() + seconds
        while True:
            block = self.next_block()
            if block.get("comment") == "keep-alive":
                if time.monotonic() >= end:
                    return events
            else:
                events.append(block)


@pytest.fixture
def fast_keepalive(app, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_KEEPALIVE_SECONDS", 0.25)


@contextmanager
def open_stream(live_server, headers=TOKEN):
    with (
        httpx.Client(base_url=live_server.url, timeout=httpx.Timeout(5.0)) as http,
        http.stream("GET", "/api/notifications/stream", headers=headers) as response,
    ):
        yield EventReader(response)


def publish_task_event(app, name="Review PR") -> str:
    """A change committed in this thread, as any service does it."""
    task_id = str(uuid.uuid4())
    with app.app_context():
        notify("task", "create", task_id, name)
        db.session.commit()
        db.session.remove()
    return task_id


def subscribers(app) -> int:
    with app.app_context():
        client = redis_lib.Redis.from_url(app.config["REDIS_URL"])
        return dict(client.pubsub_numsub(channel()))[channel().encode()]


def test_stream_without_credentials_is_401(client):
    response = client.get("/api/notifications/stream")
    assert response.status_code == 401
    assert response.json["statusCode"] == 401


def test_stream_over_http_without_credentials_is_401(live_server, user):
    response = httpx.get(f"{live_server.url}/api/notifications/stream", timeout=5)
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def test_stream_opens_with_retry_and_connected(live_server, user):
    with open_stream(live_server) as stream:
        response = stream.response
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert stream.next_block() == {"retry": "3000"}
        connected = stream.next_block()
        assert connected["event"] == "connected"
        assert connected["data"]["type"] == "connected"
        assert connected["data"]["message"] == "Notification stream connected"
        assert ISO_MS.match(connected["data"]["timestamp"])


def test_signed_in_browser_session_may_stream(live_server, user):
    with httpx.Client(base_url=live_server.url, timeout=5) as http:
        signed_in = http.post(
            "/api/auth/sign-in/email",
            json={"email": "ada@example.com", "password": "correct horse battery"},
        )
        assert signed_in.status_code == 200
        with http.stream("GET", "/api/notifications/stream") as response:
            assert response.status_code == 200
            EventReader(response).until_connected()


def test_a_committed_change_arrives_exactly_once(app, live_server, user, fast_keepalive):
    with open_stream(live_server) as stream:
        stream.until_connected()
        task_id = publish_task_event(app)
        events = stream.collect()
    assert len(events) == 1
    event = events[0]
    assert event["event"] == "resource_change"
    assert uuid.UUID(event["id"])
    data = event["data"]
    assert set(data) == EVENT_KEYS
    assert data["type"] == "resource_change"
    assert (data["resource"], data["action"], data["resourceId"]) == ("task", "create", task_id)
    assert data["resourceName"] == "Review PR"
    assert data["title"] == "Task created"
    assert data["message"] == 'Task "Review PR" was created'
    assert data["color"] == "success"
    assert ISO_MS.match(data["timestamp"])


def test_a_rolled_back_change_is_never_sent(app, live_server, user, fast_keepalive):
    with open_stream(live_server) as stream:
        stream.until_connected()
        with app.app_context():
            notify("task", "delete", str(uuid.uuid4()), "Never happened")
            db.session.rollback()
            db.session.remove()
        assert stream.collect() == []


def test_a_change_made_in_another_process_reaches_every_open_stream(
    app, app_env, live_server, user, fast_keepalive
):
    script = textwrap.dedent(
        """
        import sqlalchemy as sa
        from cognova import create_app
        from cognova.config import Config
        from cognova.extensions import db
        from cognova.services.notifications import notify

        app = create_app(Config())
        with app.app_context():
            db.session.execute(sa.text("SELECT 1"))
            notify("project", "edit", "11111111-2222-4333-8444-555555555555", "Backend")
            db.session.commit()
        """
    )
    with open_stream(live_server) as first, open_stream(live_server) as second:
        first.until_connected()
        second.until_connected()
        done = subprocess.run(
            [sys.executable, "-c", script], env=app_env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        for stream in (first, second):
            events = stream.collect()
            assert [(e["data"]["resource"], e["data"]["action"]) for e in events] == [
                ("project", "edit")
            ]
            assert events[0]["data"]["color"] == "info"


def test_a_task_created_through_the_api_is_announced(app, live_server, user, fast_keepalive):
    if "tasks.create_task" not in app.view_functions:
        pytest.skip("POST /api/tasks is not registered")
    with open_stream(live_server) as stream:
        stream.until_connected()
        created = httpx.post(
            f"{live_server.url}/api/tasks", json={"title": "Write the report"}, headers=TOKEN
        )
        assert created.status_code == 201
        task_id = created.json()["data"]["id"]
        events = stream.collect()
    matching = [e for e in events if e["data"]["resourceId"] == task_id]
    assert [e["data"]["action"] for e in matching] == ["create"]
    assert matching[0]["data"]["resourceName"] == "Write the report"


def test_idle_stream_sends_keep_alive_comments(live_server, user, fast_keepalive):
    with open_stream(live_server) as stream:
        stream.until_connected()
        started = time.monotonic()
        assert stream.next_block() == {"comment": "keep-alive"}
        assert stream.next_block() == {"comment": "keep-alive"}
        assert time.monotonic() - started < 2


def test_disconnecting_closes_the_subscription(app, live_server, user, fast_keepalive, monkeypatch):
    # A channel of its own, so streams that earlier tests left to time out are not counted.
    monkeypatch.setitem(app.config, "REDIS_NAMESPACE", f"cognova-test-{uuid.uuid4().hex[:8]}")
    assert subscribers(app) == 0
    with open_stream(live_server) as stream:
        stream.until_connected()
        assert subscribers(app) == 1
    deadline = time.monotonic() + 5
    while subscribers(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert subscribers(app) == 0


def test_open_streams_do_not_starve_other_requests(live_server, user):
    with ExitStack() as streams:
        for _ in range(3):
            streams.enter_context(open_stream(live_server)).until_connected()
        started = time.monotonic()
        health = httpx.get(f"{live_server.url}/api/health", timeout=5)
        assert health.status_code == 200
        assert time.monotonic() - started < 1


def test_head_answers_with_the_stream_headers(api):
    response = api.open("/api/notifications/stream", "HEAD")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"


def test_openapi_documents_the_event_stream(client):
    operation = client.get("/api/openapi.json").json["paths"]["/api/notifications/stream"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert "401" in operation["responses"]
