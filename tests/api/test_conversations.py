"""Conversations (API.md §9): list, get, rename, delete, export."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cognova.extensions import db
from cognova.models import Conversation, ConversationMessage

T0 = datetime(2026, 2, 18, 12, 0, tzinfo=UTC)


def make(app, title="Trip to Lisbon", status="idle", minutes=0, messages=()):
    with app.app_context():
        conv = Conversation(
            id=uuid.uuid4(),
            session_id=str(uuid.uuid4()),
            title=title,
            status=status,
            total_cost_usd=0.25,
            message_count=len(messages),
            started_at=T0 + timedelta(minutes=minutes),
        )
        db.session.add(conv)
        for n, (role, content) in enumerate(messages):
            db.session.add(
                ConversationMessage(
                    id=uuid.uuid4(),
                    conversation_id=conv.id,
                    role=role,
                    content=content if isinstance(content, str) else json.dumps(content),
                    cost_usd=0.25 if role == "assistant" else None,
                    duration_ms=1200 if role == "assistant" else None,
                    created_at=T0 + timedelta(minutes=minutes, seconds=n),
                )
            )
        db.session.commit()
        return str(conv.id)


EXCHANGE = [
    ("user", [{"type": "text", "text": "What's on my list?"}]),
    (
        "assistant",
        [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "list_tasks", "input": {"limit": 5}},
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "[]", "is_error": False},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
            {"type": "text", "text": "Nothing due."},
        ],
    ),
]


def test_list_is_paginated_newest_first_with_search_and_status(app, auth):
    ids = [make(app, f"Chat {n}", minutes=n) for n in range(3)]
    errored = make(app, "Broken LISBON chat", status="error", minutes=10)
    body = auth.get("/api/conversations").json
    assert [c["id"] for c in body["data"]] == [errored, *reversed(ids)]
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 4, "totalPages": 1}
    first = body["data"][0]
    assert set(first) == {
        "id",
        "sessionId",
        "sdkSessionId",
        "title",
        "summary",
        "status",
        "totalCostUsd",
        "messageCount",
        "startedAt",
        "endedAt",
    }
    assert first["startedAt"] == "2026-02-18T12:10:00.000Z" and first["endedAt"] is None
    assert [c["id"] for c in auth.get("/api/conversations?search=lisbon").json["data"]] == [errored]
    assert [c["id"] for c in auth.get("/api/conversations?status=error").json["data"]] == [errored]
    page = auth.get("/api/conversations?limit=2&page=2").json
    assert [c["id"] for c in page["data"]] == ids[:2][::-1] and page["pagination"][
        "totalPages"
    ] == 2
    assert auth.get("/api/conversations?limit=500").json["pagination"]["limit"] == 200
    assert auth.get("/api/conversations?status=busy").status_code == 400
    assert auth.get("/api/conversations?search=%25").json["data"] == []


def test_get_has_messages_with_parsed_blocks(app, auth):
    cid = make(app, messages=[*EXCHANGE, ("user", "not json"), ("assistant", '"a json string"')])
    data = auth.get(f"/api/conversations/{cid}").json["data"]
    roles = [m["role"] for m in data["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    reply = data["messages"][1]
    assert reply["content"] == EXCHANGE[1][1]  # snake_case keys of blocks are kept
    assert reply["costUsd"] == 0.25 and reply["durationMs"] == 1200
    assert data["messages"][0]["costUsd"] is None
    assert data["messages"][2]["content"] == [{"type": "text", "text": "not json"}]
    assert data["messages"][3]["content"] == [{"type": "text", "text": '"a json string"'}]


def test_get_unknown_and_malformed(auth):
    assert auth.get(f"/api/conversations/{uuid.uuid4()}").status_code == 404
    bad = auth.get("/api/conversations/123")
    assert bad.status_code == 400 and bad.json["message"] == "Invalid id"


def test_rename(app, auth):
    cid = make(app)
    response = auth.patch(f"/api/conversations/{cid}", json={"title": "  New name  "})
    assert response.status_code == 200 and response.json["data"]["title"] == "New name"
    assert auth.patch(f"/api/conversations/{cid}", json={"title": "   "}).status_code == 400
    assert auth.patch(f"/api/conversations/{cid}", json={"title": "x" * 201}).status_code == 400
    assert auth.patch(f"/api/conversations/{cid}", json={}).status_code == 400
    assert auth.patch(f"/api/conversations/{uuid.uuid4()}", json={"title": "x"}).status_code == 404


def test_delete_is_hard_and_removes_messages(app, auth):
    cid = make(app, messages=EXCHANGE)
    response = auth.delete(f"/api/conversations/{cid}")
    assert response.status_code == 200 and response.json["data"] == {"id": cid, "deleted": True}
    assert auth.get(f"/api/conversations/{cid}").status_code == 404
    assert auth.delete(f"/api/conversations/{cid}").status_code == 404
    with app.app_context():
        assert db.session.query(ConversationMessage).count() == 0


def test_export_markdown(app, auth):
    cid = make(app, title="Trip to Lisbon: plans & ideas!", messages=EXCHANGE)
    response = auth.get(f"/api/conversations/{cid}/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert 'filename="trip-to-lisbon-plans-ideas.md"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("# Trip to Lisbon: plans & ideas!\n")
    assert "## User — 2026-02-18T12:00:00.000Z" in text
    assert "## Assistant — 2026-02-18T12:00:01.000Z" in text
    assert '**Tool: list_tasks**\n\n```json\n{\n  "limit": 5\n}\n```' in text
    assert "**Tool result**\n\n```\n[]\n```" in text
    assert "**Tool result (error)**\n\n```\nboom\n```" in text
    assert "Nothing due." in text


def test_export_json_is_the_get_object(app, auth):
    cid = make(app, title=None, messages=EXCHANGE)
    response = auth.get(f"/api/conversations/{cid}/export?format=json")
    assert response.headers["Content-Type"].startswith("application/json")
    assert f'filename="conversation-{cid}.json"' in response.headers["Content-Disposition"]
    assert (
        json.loads(response.get_data(as_text=True))
        == auth.get(f"/api/conversations/{cid}").json["data"]
    )


def test_export_bad_format_and_unknown(app, auth):
    cid = make(app)
    assert auth.get(f"/api/conversations/{cid}/export?format=pdf").status_code == 400
    assert auth.get(f"/api/conversations/{uuid.uuid4()}/export").status_code == 404


@pytest.mark.parametrize(
    "title, expected",
    [("Hello, World", "hello-world"), ("---", "conversation-X"), ("a" * 80, "a" * 60)],
)
def test_slug(title, expected):
    from cognova.services.conversations import slug

    assert slug(title, "X") == expected


def test_requires_authentication(client):
    assert client.get("/api/conversations").status_code == 401
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 401
