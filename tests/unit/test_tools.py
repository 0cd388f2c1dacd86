"""Claude's tools: schemas, validation like the API, errors as is_error results, truncation."""

from __future__ import annotations

import contextlib
import json
import uuid

import pytest
import sqlalchemy as sa

from cognova.ai import tools
from cognova.ai.tools import ToolContext
from cognova.extensions import db
from cognova.models import Task

CONTRACT_TOOLS = {
    "list_tasks",
    "create_task",
    "update_task",
    "complete_task",
    "delete_task",
    "list_projects",
    "create_project",
    "create_reminder",
    "list_reminders",
    "search_documents",
    "read_document",
    "write_document",
    "list_folder",
    "get_current_time",
}


@pytest.fixture
def actor(ctx, user):
    return ToolContext(actor=user.id)


def call(name, args, actor, limit=None):
    outcome = tools.run(name, args, actor, limit)
    body = outcome.content
    with contextlib.suppress(ValueError):
        body = json.loads(body)
    return outcome.is_error, body


def test_every_contract_tool_is_registered_with_an_object_schema():
    defs = {d["name"]: d for d in tools.definitions()}
    assert set(defs) >= CONTRACT_TOOLS
    for definition in defs.values():
        schema = definition["input_schema"]
        assert schema["type"] == "object" and "$defs" not in json.dumps(schema)
        assert definition["description"]
    create = defs["create_task"]["input_schema"]
    assert create["required"] == ["title"]
    assert create["properties"]["priority"]["maximum"] == 3
    assert "projectId" in create["properties"]


def test_unknown_tool_and_non_object_input(actor):
    assert call("launch_rockets", {}, actor)[0] is True
    failed, body = call("create_task", ["not", "an", "object"], actor)
    assert failed and body["error"] == "Tool input must be a JSON object"


def test_task_tools_round_trip(actor, user):
    failed, created = call("create_task", {"title": "  Write report ", "tags": ["work"]}, actor)
    assert not failed and created["title"] == "Write report" and created["createdBy"] == user.id
    task_id = created["id"]
    failed, listed = call("list_tasks", {"search": "report"}, actor)
    assert not failed and listed["total"] == 1 and listed["tasks"][0]["id"] == task_id
    failed, updated = call("update_task", {"id": task_id, "priority": 1}, actor)
    assert not failed and updated["priority"] == 1
    failed, done = call("complete_task", {"id": task_id}, actor)
    assert not failed and done["status"] == "done" and done["completedAt"]
    failed, deleted = call("delete_task", {"id": task_id}, actor)
    assert not failed and deleted["deleted"] is True
    assert db.session.get(Task, uuid.UUID(task_id)).deleted_at is not None
    assert call("list_tasks", {}, actor)[1]["total"] == 0


def test_validation_matches_the_api(actor):
    failed, body = call("create_task", {"title": "", "status": "later", "priority": 2.5}, actor)
    assert failed and body["error"] == "Validation failed"
    assert set(body["errors"]) == {"title", "status", "priority"}
    failed, body = call("update_task", {"id": str(uuid.uuid4())}, actor)
    assert failed and body["error"] == "No updatable fields provided"
    failed, body = call("complete_task", {"id": "nope"}, actor)
    assert failed and body["errors"] == {"id": "must be a UUID"}
    failed, body = call("complete_task", {"id": str(uuid.uuid4())}, actor)
    assert failed and "not found" in body["error"].lower()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


def test_projects_and_reminders(actor):
    failed, project = call("create_project", {"name": "Home", "color": "#336699"}, actor)
    assert not failed and project["name"] == "Home"
    assert call("list_projects", {}, actor)[1][0]["id"] == project["id"]
    failed, reminder = call(
        "create_reminder", {"message": "Call mum", "remindAt": "2030-01-01T09:00:00Z"}, actor
    )
    assert not failed and reminder["remindAt"] == "2030-01-01T09:00:00.000Z"
    failed, listed = call("list_reminders", {"status": "pending"}, actor)
    assert not failed and listed["total"] == 1
    assert call("create_reminder", {"message": "x", "remindAt": "whenever"}, actor)[0] is True


def test_document_tools_stay_in_the_vault(actor, app):
    failed, written = call(
        "write_document", {"path": "notes/idea.md", "content": "# Idea\n"}, actor
    )
    assert not failed and written["path"] == "notes/idea.md"
    call("write_document", {"path": "notes/idea.md", "content": "More", "mode": "append"}, actor)
    failed, read = call("read_document", {"path": "notes/idea.md"}, actor)
    assert not failed and read["content"] == "# Idea\nMore"
    failed, folder = call("list_folder", {"path": "notes"}, actor)
    assert [e["name"] for e in folder["entries"]] == ["idea.md"]
    assert call("write_document", {"path": "../escape.md", "content": "x"}, actor)[0] is True
    assert call("write_document", {"path": "script.sh", "content": "x"}, actor)[0] is True
    assert call("read_document", {"path": "missing.md"}, actor)[0] is True
    failed, hits = call("search_documents", {"query": "Idea"}, actor)
    assert not failed and isinstance(hits, list)


def test_results_are_truncated_for_the_model(actor):
    for n in range(30):
        call("create_task", {"title": f"Task number {n}"}, actor)
    outcome = tools.run("list_tasks", {"limit": 100}, actor, limit=500)
    assert not outcome.is_error
    assert len(outcome.content) < 600 and "[truncated:" in outcome.content


def test_truncation_limit_comes_from_config(app, actor):
    app.config["TOOL_RESULT_MAX_CHARS"] = 50
    try:
        outcome = tools.run("get_current_time", {}, actor)
    finally:
        app.config["TOOL_RESULT_MAX_CHARS"] = 20000
    assert outcome.content.startswith('{"utc": "') and "[truncated:" in outcome.content


def test_current_time_in_utc_and_the_configured_zone(app, actor):
    app.config["TIMEZONE"] = "Europe/Paris"
    try:
        failed, now = call("get_current_time", {}, actor)
    finally:
        app.config["TIMEZONE"] = "UTC"
    assert not failed and now["utc"].endswith("Z") and now["timezone"] == "Europe/Paris"


def test_a_crashing_tool_is_an_error_result_not_a_crash(actor, monkeypatch):
    def boom(_args, _ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tools.REGISTRY["list_projects"], "handler", boom)
    failed, body = call("list_projects", {}, actor)
    assert failed and body["error"] == "Tool failed: RuntimeError"


def test_memory_tools(actor):
    stored = {"content": "Prefers tea over coffee", "chunkType": "preference"}
    failed, first = call("store_memory", stored, actor)
    assert not failed and first["duplicate"] is False
    assert call("store_memory", stored, actor)[1]["duplicate"] is True
    failed, found = call("search_memory", {"query": "tea"}, actor)
    assert not failed and found["total"] == 1
    assert found["memories"][0]["content"] == "Prefers tea over coffee"
    assert call("store_memory", {"content": "x", "chunkType": "gossip"}, actor)[0] is True
