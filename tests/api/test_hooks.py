"""Hook analytics (API.md §13) and Claude Code's native HTTP hook (POST /api/hooks/claude)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import HookEvent
from tests.conftest import API_TOKEN

EVENT_TYPES = [
    "SessionStart",
    "SessionEnd",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "UserPromptSubmit",
]


def post_event(api, **body):
    response = api.post("/api/hooks/events", json=body)
    assert response.status_code == 201, response.json
    return response.json["data"]


def insert(app, created_at, **values):
    values.setdefault("event_type", "PreToolUse")
    with app.app_context():
        db.session.execute(sa.insert(HookEvent).values(created_at=created_at, **values))
        db.session.commit()


# ------------------------------------------------------------------ events


def test_post_event_returns_every_key(api):
    data = post_event(
        api,
        eventType="PreToolUse",
        sessionId="sess-1",
        projectDir="/home/ada/app",
        toolName="Bash",
        toolMatcher="Bash|Write",
        eventData={"command": "rm -rf /", "nested": [1, {"a": None}]},
        exitCode=2,
        durationMs=12,
        blocked=True,
        blockReason="dangerous command",
        hookScript="/home/ada/.claude/hooks/guard.py",
    )
    assert set(data) == {
        "id",
        "eventType",
        "sessionId",
        "projectDir",
        "toolName",
        "toolMatcher",
        "blockReason",
        "hookScript",
        "eventData",
        "exitCode",
        "durationMs",
        "blocked",
        "createdAt",
    }
    assert data["eventData"] == {"command": "rm -rf /", "nested": [1, {"a": None}]}
    assert data["blocked"] is True and data["exitCode"] == 2
    assert uuid.UUID(data["id"]) and data["createdAt"].endswith("Z")


def test_minimal_event_defaults(api):
    data = post_event(api, eventType="SessionEnd")
    assert data["blocked"] is False
    assert data["eventData"] is None and data["toolName"] is None


@pytest.mark.parametrize("event_data", [[1, 2, 3], "just a string", 42, True])
def test_event_data_may_be_any_json(api, event_data):
    assert (
        post_event(api, eventType="UserPromptSubmit", eventData=event_data)["eventData"]
        == event_data
    )


def test_stored_event_data_that_is_not_json_comes_back_raw(app, api):
    insert(app, datetime.now(UTC), event_data="{not json")
    assert api.get("/api/hooks/events").json["data"][0]["eventData"] == "{not json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "eventType"),
        ({"eventType": "Stop"}, "eventType"),
        ({"eventType": "pretooluse"}, "eventType"),
        ({"eventType": "PreToolUse", "durationMs": -1}, "durationMs"),
        ({"eventType": "PreToolUse", "durationMs": 1.5}, "durationMs"),
        ({"eventType": "PreToolUse", "exitCode": "2"}, "exitCode"),
        ({"eventType": "PreToolUse", "blocked": "yes"}, "blocked"),
        ({"eventType": "PreToolUse", "blocked": None}, "blocked"),
        ({"eventType": "PreToolUse", "sessionId": "s" * 256}, "sessionId"),
        ({"eventType": "PreToolUse", "toolName": "t" * 256}, "toolName"),
        ({"eventType": "PreToolUse", "projectDir": "p" * 4097}, "projectDir"),
        ({"eventType": "PreToolUse", "blockReason": "r" * 2001}, "blockReason"),
        ({"eventType": "PreToolUse", "eventData": {"blob": "x" * (256 * 1024)}}, "eventData"),
    ],
)
def test_post_event_rejects_bad_fields(api, body, field):
    response = api.post("/api/hooks/events", json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]


def test_post_event_rejects_non_object_bodies(api):
    response = api.post("/api/hooks/events", data="[1]", content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"] == "Request body must be a JSON object"


def test_post_event_emits_hook_create_with_tool_in_the_name(api):
    from cognova.services import notifications

    seen = []
    original = notifications.publish_now
    notifications.publish_now = seen.append
    try:
        post_event(api, eventType="PreToolUse", toolName="Bash")
        post_event(api, eventType="SessionStart")
    finally:
        notifications.publish_now = original
    assert [(e["resource"], e["action"], e["resourceName"]) for e in seen] == [
        ("hook", "create", "PreToolUse Bash"),
        ("hook", "create", "SessionStart"),
    ]


def test_list_events_filters_newest_first(app, api):
    now = datetime.now(UTC)
    insert(app, now - timedelta(hours=3), session_id="a", tool_name="Bash", blocked=True)
    insert(app, now - timedelta(hours=2), session_id="a", tool_name="Read")
    insert(app, now - timedelta(hours=1), event_type="SessionStart", session_id="b")
    data = api.get("/api/hooks/events").json["data"]
    assert [e["toolName"] for e in data] == [None, "Read", "Bash"]
    assert len(api.get("/api/hooks/events?eventType=SessionStart").json["data"]) == 1
    assert len(api.get("/api/hooks/events?eventType=SessionStart,PreToolUse").json["data"]) == 3
    assert (
        len(api.get("/api/hooks/events?eventType=SessionStart&eventType=PreToolUse").json["data"])
        == 3
    )
    assert [e["toolName"] for e in api.get("/api/hooks/events?sessionId=a").json["data"]] == [
        "Read",
        "Bash",
    ]
    assert [e["toolName"] for e in api.get("/api/hooks/events?toolName=Bash").json["data"]] == [
        "Bash"
    ]
    assert [e["toolName"] for e in api.get("/api/hooks/events?blocked=true").json["data"]] == [
        "Bash"
    ]
    assert len(api.get("/api/hooks/events?blocked=false").json["data"]) == 2
    since = (now - timedelta(hours=2, minutes=30)).isoformat().replace("+00:00", "Z")
    until = (now - timedelta(minutes=90)).isoformat().replace("+00:00", "Z")
    assert [
        e["toolName"]
        for e in api.get(f"/api/hooks/events?since={since}&until={until}").json["data"]
    ] == ["Read"]
    assert len(api.get("/api/hooks/events?limit=1").json["data"]) == 1
    assert "pagination" not in api.get("/api/hooks/events").json


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("eventType=Stop", "eventType"),
        ("blocked=perhaps", "blocked"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
    ],
)
def test_list_events_rejects_bad_query(api, query, field):
    response = api.get(f"/api/hooks/events?{query}")
    assert response.status_code == 400 and field in response.json["errors"]


def test_list_limit_is_clamped(app, api):
    with app.app_context():
        db.session.execute(
            sa.insert(HookEvent),
            [{"event_type": "PreToolUse"} for _ in range(510)],
        )
        db.session.commit()
    assert len(api.get("/api/hooks/events?limit=9999").json["data"]) == 500
    assert len(api.get("/api/hooks/events").json["data"]) == 100


# ------------------------------------------------------------------ stats


def test_stats_of_an_empty_window(api):
    data = api.get("/api/hooks/stats").json["data"]
    assert data["totalEvents"] == 0 and data["blockRate"] == 0 and data["avgDurationMs"] == 0
    assert data["eventsByType"] == dict.fromkeys(EVENT_TYPES, 0)
    assert data["toolBreakdown"] == [] and data["recentSessions"] == []
    assert len(data["dailyActivity"]) == 8
    assert all(d["total"] == 0 and d["avgDurationMs"] == 0 for d in data["dailyActivity"])


def test_stats_count_rate_durations_tools_days_and_sessions(app, api):
    now = datetime.now(UTC)
    today = now.date()
    insert(
        app,
        now - timedelta(minutes=5),
        session_id="s1",
        tool_name="Bash",
        blocked=True,
        duration_ms=10,
    )
    insert(app, now - timedelta(minutes=4), session_id="s2", tool_name="Bash", duration_ms=21)
    insert(app, now - timedelta(minutes=3), session_id="s1", tool_name="Read", duration_ms=5)
    insert(app, now - timedelta(days=2), event_type="PostToolUse", tool_name="Read")
    insert(app, now - timedelta(days=2), event_type="SessionStart", session_id="s0")
    insert(app, now - timedelta(days=9), event_type="SessionStart", session_id="old")
    data = api.get("/api/hooks/stats").json["data"]
    assert data["totalEvents"] == 5
    assert data["blockedEvents"] == 1
    assert data["blockRate"] == 20
    assert data["avgDurationMs"] == 12  # (10 + 21 + 5) / 3 = 12
    assert data["eventsByType"]["PreToolUse"] == 3
    assert data["eventsByType"]["SessionStart"] == 1
    assert data["eventsByType"]["PostToolUse"] == 1
    assert data["toolBreakdown"] == [
        {"toolName": "Bash", "total": 2, "blocked": 1, "avgDurationMs": 16},  # 15.5 rounds up
        {"toolName": "Read", "total": 2, "blocked": 0, "avgDurationMs": 5},
    ]
    daily = data["dailyActivity"]
    assert [d["date"] for d in daily] == [
        (today - timedelta(days=7 - n)).isoformat() for n in range(8)
    ]
    assert daily[-1] == {
        "date": today.isoformat(),
        "total": 3,
        "blocked": 1,
        "allowed": 2,
        "avgDurationMs": 12,
    }
    two_days = next(d for d in daily if d["date"] == (now - timedelta(days=2)).date().isoformat())
    assert two_days["total"] == 2 and two_days["avgDurationMs"] == 0
    assert data["recentSessions"] == ["s1", "s2", "s0"]
    assert api.get("/api/hooks/stats?period=30d").json["data"]["totalEvents"] == 6
    day = api.get("/api/hooks/stats?period=24h").json["data"]
    assert day["totalEvents"] == 3 and len(day["dailyActivity"]) == 2
    assert len(api.get("/api/hooks/stats?period=30d").json["data"]["dailyActivity"]) == 31


def test_stats_rounds_block_rate_half_up_and_limits_tools(app, api):
    now = datetime.now(UTC) - timedelta(minutes=1)
    with app.app_context():
        rows = [
            {"event_type": "PreToolUse", "tool_name": f"tool{n:02d}", "created_at": now}
            for n in range(25)
        ]
        rows += [
            {"event_type": "PreToolUse", "tool_name": "tool00", "created_at": now, "blocked": True}
        ]
        rows += [{"event_type": "PreToolUse", "created_at": now} for _ in range(14)]
        db.session.execute(sa.insert(HookEvent), rows)
        db.session.commit()
    data = api.get("/api/hooks/stats").json["data"]
    assert data["totalEvents"] == 40 and data["blockRate"] == 3  # 2.5 % rounds half up
    assert len(data["toolBreakdown"]) == 20
    assert data["toolBreakdown"][0]["toolName"] == "tool00"
    assert [t["toolName"] for t in data["toolBreakdown"][1:4]] == ["tool01", "tool02", "tool03"]


def test_stats_rejects_unknown_period(api):
    response = api.get("/api/hooks/stats?period=1y")
    assert response.status_code == 400 and "period" in response.json["errors"]


def test_recent_sessions_beyond_the_newest_rows(app, api):
    """Most recent events all from one session: the other sessions are still found."""
    now = datetime.now(UTC)
    with app.app_context():
        rows = [
            {
                "event_type": "PreToolUse",
                "session_id": f"s{n}",
                "created_at": now - timedelta(hours=5, minutes=n),
            }
            for n in range(12)
        ]
        rows += [
            {
                "event_type": "PreToolUse",
                "session_id": "busy",
                "created_at": now - timedelta(seconds=n + 1),
            }
            for n in range(3000)
        ]
        db.session.execute(sa.insert(HookEvent), rows)
        db.session.commit()
    assert api.get("/api/hooks/stats").json["data"]["recentSessions"] == ["busy"] + [
        f"s{n}" for n in range(9)
    ]


def test_a_flood_of_events_is_accepted(app):
    """Concurrent clients each posting many events: every one is stored, none fails."""
    clients = 8
    per_client = 40
    failures = []

    def post_many():
        client = app.test_client()
        for _ in range(per_client):
            response = client.post(
                "/api/hooks/events",
                json={"eventType": "PostToolUse", "toolName": "Read", "durationMs": 3},
                headers={"X-API-Token": API_TOKEN},
            )
            if response.status_code != 201:
                failures.append(response.status_code)

    from cognova.services import admin

    with app.app_context():
        admin.seed_admin("ada@example.com", "Ada", "correct horse battery")
        db.session.remove()
    threads = [threading.Thread(target=post_many) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(HookEvent))
            == clients * per_client
        )


# ------------------------------------------------------------------ native HTTP hook


def claude(client, payload, token=API_TOKEN, **headers):
    if token is not None:
        headers["X-API-Token"] = token
    return client.post("/api/hooks/claude", data=json.dumps(payload), headers=headers)


BASE = {
    "session_id": "abc123",
    "transcript_path": "/nowhere/abc123.jsonl",
    "cwd": "/home/ada/app",
    "permission_mode": "default",
}


def test_native_hook_needs_the_token(client, user):
    assert claude(client, {**BASE, "hook_event_name": "SessionEnd"}, token=None).status_code == 401
    wrong = claude(client, {**BASE, "hook_event_name": "SessionEnd"}, token="nope")
    assert wrong.status_code == 401 and wrong.json["message"] == "Authentication required"
    bearer = client.post(
        "/api/hooks/claude",
        data=json.dumps({**BASE, "hook_event_name": "SessionEnd", "reason": "exit"}),
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert bearer.status_code == 200 and bearer.json == {}


def test_native_pre_tool_use_is_stored_with_the_rest_as_event_data(app, client, user):
    payload = {
        **BASE,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_use_id": "toolu_01",
    }
    response = claude(client, payload)
    assert response.status_code == 200 and response.json == {}
    with app.app_context():
        row = db.session.scalar(sa.select(HookEvent))
    assert (row.event_type, row.session_id, row.project_dir, row.tool_name) == (
        "PreToolUse",
        "abc123",
        "/home/ada/app",
        "Bash",
    )
    assert json.loads(row.event_data) == {
        "transcript_path": "/nowhere/abc123.jsonl",
        "permission_mode": "default",
        "tool_input": {"command": "ls"},
        "tool_use_id": "toolu_01",
    }


def test_native_session_start_answers_with_the_memory_context(app, client, api):
    api.post("/api/memory/store", json={"content": "Prefers pnpm", "chunkType": "preference"})
    api.post(
        "/api/memory/store",
        json={"content": "Other project", "chunkType": "fact", "projectPath": "/x"},
    )
    response = claude(client, {**BASE, "hook_event_name": "SessionStart", "source": "startup"})
    assert response.status_code == 200
    assert response.json == {
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": "1 memory loaded:\n\n### Preferences\n- Prefers pnpm\n",
        }
    }
    with app.app_context():
        assert db.session.scalar(sa.select(HookEvent.event_type)) == "SessionStart"


def test_native_session_start_without_memories_gives_the_onboarding_note(client, user):
    from cognova.services.claude_hooks import ONBOARDING

    response = claude(client, {**BASE, "hook_event_name": "SessionStart", "source": "startup"})
    assert response.json["hookSpecificOutput"]["additionalContext"] == ONBOARDING


@pytest.mark.parametrize("name", ["Stop", "PreCompact", "Notification", "SubagentStop", "Whatever"])
def test_native_events_outside_the_enum_are_answered_but_not_stored(app, client, user, name):
    response = claude(client, {**BASE, "hook_event_name": name, "message": "hi"})
    assert response.status_code == 200 and response.json == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HookEvent)) == 0


def test_native_hook_bad_bodies(client, user):
    malformed = client.post("/api/hooks/claude", data="{oops", headers={"X-API-Token": API_TOKEN})
    assert malformed.status_code == 400 and malformed.json["message"] == "Malformed JSON body"
    missing = claude(client, {"session_id": "x"})
    assert missing.status_code == 400 and "hook_event_name" in missing.json["errors"]


def test_native_hook_keeps_huge_tool_output_within_the_limit(app, client, user):
    payload = {
        **BASE,
        "hook_event_name": "PostToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": "/big"},
        "tool_response": {"content": "y" * 400_000},
    }
    assert claude(client, payload).status_code == 200
    with app.app_context():
        stored = json.loads(db.session.scalar(sa.select(HookEvent.event_data)))
    assert stored["tool_input"] == {"file_path": "/big"}
    assert stored["tool_response"]["truncated"] is True


def test_native_stop_queues_extraction_from_an_allowed_transcript(app, client, user, tmp_path):
    from rq.job import Job

    from cognova.extensions import queue

    projects = app.config["CLAUDE_PROJECTS_DIR"]
    projects.mkdir(parents=True, exist_ok=True)
    transcript = projects / "t.jsonl"
    transcript.write_text('{"type":"user","message":{"role":"user","content":"hi"}}\n')
    app.config["ANTHROPIC_API_KEY"] = "test-key"
    try:
        payload = {**BASE, "hook_event_name": "Stop", "transcript_path": str(transcript)}
        assert claude(client, payload).status_code == 200
        assert claude(client, payload).status_code == 200  # throttled: a Stop fires every reply
        assert claude(client, {**payload, "hook_event_name": "PreCompact"}).status_code == 200
        outside = {
            **payload,
            "hook_event_name": "PreCompact",
            "transcript_path": str(tmp_path / "x"),
        }
        assert claude(client, outside).status_code == 200
        with app.app_context():
            jobs = [Job.fetch(i, connection=queue().connection) for i in queue("default").job_ids]
    finally:
        app.config["ANTHROPIC_API_KEY"] = None
    assert len(jobs) == 2
    assert all(job.meta["type"] == "memory_extraction" for job in jobs)
    assert jobs[0].kwargs["transcript_path"] == str(transcript.resolve())
    assert jobs[0].kwargs["session_id"] == "abc123"
    assert jobs[0].kwargs["project_path"] == "/home/ada/app"


def test_native_hook_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/hooks/claude"]["post"]
    assert operation["security"] == []
    assert "hook_event_name" in json.dumps(spec["components"]["schemas"]["ClaudeHookInput"])


# ------------------------------------------------------------------ ingestion path


def test_a_posted_event_is_listed_at_once_exactly_as_returned(api):
    created = post_event(
        api,
        eventType="PostToolUse",
        sessionId="s1",
        toolName="Bash",
        eventData={"tool_input": {"command": "ls"}, "n": 1.5, "ok": True},
        exitCode=0,
        durationMs=7,
    )
    assert api.get("/api/hooks/events").json["data"] == [created]


def test_ingestion_uses_its_own_connections_not_the_request_session(app, api):
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        main_engine = db.engine
    post_event(api, eventType="SessionStart")  # the token user is looked up once
    sa.event.listen(main_engine, "before_cursor_execute", seen)
    try:
        post_event(api, eventType="PreToolUse", toolName="Read")
    finally:
        sa.event.remove(main_engine, "before_cursor_execute", seen)
    assert statements == []


def test_ingestion_connections_commit_without_waiting_for_the_flush(app):
    from cognova.services import hooks

    with app.app_context(), hooks.ingest_engine().connect() as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        assert conn.connection.driver_connection.autocommit is True


def test_ingestion_survives_connections_closed_by_the_server(app, api):
    from cognova.services import hooks

    post_event(api, eventType="SessionStart")
    with app.app_context():
        with hooks.ingest_engine().connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    data = post_event(api, eventType="SessionEnd")
    assert api.get("/api/hooks/events").json["data"][0]["id"] == data["id"]


def test_an_insert_sent_twice_is_stored_once(app):
    from cognova.services import hooks

    ident = uuid.uuid4()
    with app.app_context():
        first = hooks.record("PreToolUse", tool_name="Bash", event_id=ident)
        again = hooks.record("PreToolUse", tool_name="Bash", event_id=ident)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HookEvent)) == 1
    assert again == first


def test_a_forked_process_makes_its_own_ingestion_engine(app, monkeypatch):
    import os

    from cognova.services import hooks

    with app.app_context():
        parent = hooks.ingest_engine()
        assert hooks.ingest_engine() is parent
        real_pid = os.getpid()
        monkeypatch.setattr(hooks.os, "getpid", lambda: real_pid + 1)
        child = hooks.ingest_engine()
        assert child is not parent
        assert hooks.ingest_engine() is child
        monkeypatch.undo()
        assert hooks.ingest_engine() is not child  # back in "the parent": made afresh


def test_a_flood_waits_for_the_ingestion_pool_and_times_out_as_503(app, api, monkeypatch):
    from cognova.services import hooks

    post_event(api, eventType="SessionStart")
    with app.app_context():
        app.extensions.pop("cognova.hooks_engine")[1].dispose()
        monkeypatch.setitem(hooks.INGEST_POOL, "pool_size", 1)
        monkeypatch.setitem(hooks.INGEST_POOL, "pool_timeout", 0.2)
        engine = hooks.ingest_engine()
        try:
            with engine.connect():
                response = api.post("/api/hooks/events", json={"eventType": "SessionEnd"})
                assert response.status_code == 503
                assert response.json["message"] == "Database unavailable"
            post_event(api, eventType="SessionEnd")
        finally:
            app.extensions.pop("cognova.hooks_engine")[1].dispose()
