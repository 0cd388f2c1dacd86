"""Tasks (API.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import Task

MISSING = "00000000-0000-4000-8000-000000000000"
TASK_KEYS = {
    "id",
    "title",
    "description",
    "status",
    "priority",
    "projectId",
    "project",
    "dueDate",
    "tags",
    "completedAt",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "createdBy",
    "modifiedBy",
    "deletedBy",
    "creator",
}


def make_task(client, **fields):
    response = client.post("/api/tasks", json={"title": "Review PR", **fields})
    assert response.status_code == 201, response.json
    return response.json["data"]


def make_project(client, name="Backend", color="#3b82f6"):
    return client.post("/api/projects", json={"name": name, "color": color}).json["data"]


def titles(client, query=""):
    response = client.get(f"/api/tasks{query}")
    assert response.status_code == 200, response.json
    return [t["title"] for t in response.json["data"]]


def all_tasks(client):
    return client.get("/api/tasks?includeDeleted=true&limit=500").json["data"]


def set_created(app, task_id, when):
    with app.app_context():
        db.session.execute(sa.update(Task).where(Task.id == task_id).values(created_at=when))
        db.session.commit()


# ------------------------------------------------------------------ create / read


def test_create_with_defaults(auth):
    data = make_task(auth, title="  Review PR  ")
    assert set(data) == TASK_KEYS
    assert data["title"] == "Review PR"
    assert data["status"] == "todo" and data["priority"] == 2
    assert data["tags"] == [] and data["description"] is None
    assert data["projectId"] is None and data["project"] is None
    assert data["dueDate"] is None and data["completedAt"] is None
    assert data["createdBy"] == auth.user["id"]
    assert data["creator"] == {"id": auth.user["id"], "name": auth.user["name"]}
    assert auth.get(f"/api/tasks/{data['id']}").json["data"] == data


def test_create_with_every_field(api):
    project = make_project(api)
    data = make_task(
        api,
        description="# md",
        status="in_progress",
        priority=3,
        projectId=project["id"].upper(),
        dueDate="2026-02-20",
        tags=[" code-review ", "bug", "code-review", "Bug"],
    )
    assert data["projectId"] == project["id"]
    assert data["project"] == {"id": project["id"], "name": "Backend", "color": "#3b82f6"}
    assert data["dueDate"] == "2026-02-20T00:00:00.000Z"
    assert data["tags"] == ["code-review", "bug", "Bug"]
    assert data["status"] == "in_progress" and data["priority"] == 3


def test_due_date_offsets_are_honoured(api):
    data = make_task(api, dueDate="2026-02-20T10:30:00+02:00")
    assert data["dueDate"] == "2026-02-20T08:30:00.000Z"
    data = make_task(api, dueDate="2026-02-20T10:30:00.123456")
    assert data["dueDate"] == "2026-02-20T10:30:00.123Z"


# ------------------------------------------------------------------ completion rule


def test_completion_rule(api):
    done = make_task(api, status="done")
    assert done["completedAt"] is not None
    task = make_task(api)
    assert task["completedAt"] is None
    completed = api.put(f"/api/tasks/{task['id']}", json={"status": "done"}).json["data"]
    assert completed["completedAt"] is not None
    edited = api.put(f"/api/tasks/{task['id']}", json={"title": "renamed"}).json["data"]
    assert edited["completedAt"] == completed["completedAt"]
    same = api.put(f"/api/tasks/{task['id']}", json={"status": "done"}).json["data"]
    assert same["completedAt"] == completed["completedAt"]
    reopened = api.put(f"/api/tasks/{task['id']}", json={"status": "blocked"}).json["data"]
    assert reopened["completedAt"] is None


# ------------------------------------------------------------------ update / delete / restore


def test_update_is_partial_and_audited(auth):
    project = make_project(auth)
    task = make_task(
        auth, description="d", tags=["a"], dueDate="2026-01-01", projectId=project["id"]
    )
    response = auth.put(f"/api/tasks/{task['id']}", json={"priority": 1})
    data = response.json["data"]
    assert data["priority"] == 1
    assert data["description"] == "d" and data["tags"] == ["a"] and data["projectId"]
    assert data["modifiedBy"] == auth.user["id"] and data["modifiedAt"] is not None
    cleared = auth.put(
        f"/api/tasks/{task['id']}",
        json={"description": None, "dueDate": None, "projectId": None, "tags": []},
    ).json["data"]
    assert cleared["description"] is None and cleared["dueDate"] is None
    assert cleared["projectId"] is None and cleared["project"] is None and cleared["tags"] == []


def test_delete_and_restore(auth):
    task = make_task(auth)
    deleted = auth.delete(f"/api/tasks/{task['id']}")
    assert deleted.status_code == 200
    assert deleted.json["data"]["deletedBy"] == auth.user["id"]
    assert deleted.json["data"]["deletedAt"] is not None
    assert auth.get(f"/api/tasks/{task['id']}").status_code == 404
    assert auth.get(f"/api/tasks/{task['id']}?includeDeleted=true").status_code == 200
    assert auth.put(f"/api/tasks/{task['id']}", json={"title": "x"}).status_code == 404
    assert auth.delete(f"/api/tasks/{task['id']}").status_code == 404
    assert titles(auth) == []
    assert titles(auth, "?includeDeleted=true") == ["Review PR"]
    assert auth.get("/api/tasks?includeDeleted=true").json["pagination"]["total"] == 1
    assert auth.get("/api/tasks").json["pagination"]["total"] == 0
    restored = auth.post(f"/api/tasks/{task['id']}/restore").json["data"]
    assert restored["deletedAt"] is None and restored["deletedBy"] is None
    assert restored["modifiedBy"] == auth.user["id"]
    again = auth.post(f"/api/tasks/{task['id']}/restore")
    assert again.status_code == 400 and again.json["message"] == "Not deleted"
    assert auth.post(f"/api/tasks/{MISSING}/restore").status_code == 404


def test_missing_and_malformed_ids(api):
    for method in ("get", "put", "delete"):
        assert getattr(api, method)(f"/api/tasks/{MISSING}", json={"title": "x"}).status_code == 404
        bad = getattr(api, method)("/api/tasks/123", json={"title": "x"})
        assert bad.status_code == 400 and bad.json["errors"] == {"id": "must be a UUID"}
    assert api.get("/api/tasks/123/reminders").status_code == 400
    assert api.post("/api/tasks/123/restore").status_code == 400
    assert api.get("/api/tasks/").status_code == 404


# ------------------------------------------------------------------ list filters


def test_status_filter_is_repeatable_and_accepts_commas(api):
    for status in ("todo", "in_progress", "done", "blocked"):
        make_task(api, title=status, status=status)
    assert sorted(titles(api, "?status=todo&status=done")) == ["done", "todo"]
    assert sorted(titles(api, "?status=blocked,in_progress")) == ["blocked", "in_progress"]


def test_project_priority_and_tag_filters(api):
    project = make_project(api)
    make_task(api, title="a", projectId=project["id"], priority=3, tags=["x", "y"])
    make_task(api, title="b", priority=3, tags=["x"])
    make_task(api, title="c", priority=1, tags=["y", "x", "z"])
    assert titles(api, f"?projectId={project['id']}") == ["a"]
    assert sorted(titles(api, "?projectId=none")) == ["b", "c"]
    assert sorted(titles(api, "?priority=3")) == ["a", "b"]
    assert sorted(titles(api, "?tag=x")) == ["a", "b", "c"]
    assert sorted(titles(api, "?tag=x&tag=y")) == ["a", "c"]
    assert titles(api, "?tag=x&tag=z&tag=y") == ["c"]
    assert titles(api, "?tag=X") == []


def test_search_matches_title_or_description_case_insensitively(api):
    make_task(api, title="Call the BANK")
    make_task(api, title="Groceries", description="remember the bank card")
    make_task(api, title="100% sure")
    make_task(api, title="Other")
    assert sorted(titles(api, "?search=bank")) == ["Call the BANK", "Groceries"]
    assert titles(api, "?search=%25") == ["100% sure"]
    assert titles(api, "?search=_") == []


def test_due_bounds_exclude_tasks_without_a_due_date(api):
    make_task(api, title="early", dueDate="2026-01-01T00:00:00Z")
    make_task(api, title="edge", dueDate="2026-02-01T00:00:00Z")
    make_task(api, title="late", dueDate="2026-03-01T00:00:00Z")
    make_task(api, title="none")
    assert sorted(titles(api, "?dueAfter=2026-02-01")) == ["edge", "late"]
    assert titles(api, "?dueBefore=2026-02-01") == ["early"]
    assert titles(api, "?dueAfter=2026-01-15&dueBefore=2026-02-15") == ["edge"]
    assert titles(api, "?dueAfter=2026-02-01T01:00:00%2B02:00&dueBefore=2026-02-02") == ["edge"]


# ------------------------------------------------------------------ sorting


def test_default_sort_is_newest_first_with_ties_by_id(app, api):
    ids = [make_task(api, title=f"t{i}")["id"] for i in range(3)]
    assert titles(api) == ["t2", "t1", "t0"]
    same = datetime(2026, 1, 1, tzinfo=UTC)
    for task_id in ids:
        set_created(app, task_id, same)
    listed = [t["id"] for t in api.get("/api/tasks").json["data"]]
    assert listed == sorted(ids)
    oldest_first = [t["id"] for t in api.get("/api/tasks?order=asc").json["data"]]
    assert oldest_first == sorted(ids)


def test_due_date_sort_puts_nulls_last_in_both_directions(api):
    make_task(api, title="none")
    make_task(api, title="feb", dueDate="2026-02-01")
    make_task(api, title="jan", dueDate="2026-01-01")
    assert titles(api, "?sort=dueDate") == ["jan", "feb", "none"]
    assert titles(api, "?sort=dueDate&order=desc") == ["feb", "jan", "none"]


def test_priority_and_title_sorts(app, api):
    make_task(api, title="banana", priority=1)
    make_task(api, title="Apple", priority=3)
    make_task(api, title="cherry", priority=3)
    assert titles(api, "?sort=priority") == ["cherry", "Apple", "banana"]
    assert titles(api, "?sort=priority&order=asc") == ["banana", "cherry", "Apple"]
    assert titles(api, "?sort=title") == ["Apple", "banana", "cherry"]
    assert titles(api, "?sort=title&order=desc") == ["cherry", "banana", "Apple"]


def test_ties_break_by_created_at_desc(api):
    make_task(api, title="first", dueDate="2026-01-01")
    make_task(api, title="second", dueDate="2026-01-01")
    assert titles(api, "?sort=dueDate") == ["second", "first"]
    assert titles(api, "?sort=dueDate&order=desc") == ["second", "first"]


# ------------------------------------------------------------------ pagination


def test_pagination(api):
    for i in range(5):
        make_task(api, title=f"t{i}")
    body = api.get("/api/tasks?limit=2&page=2").json
    assert [t["title"] for t in body["data"]] == ["t2", "t1"]
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3}
    past = api.get("/api/tasks?limit=2&page=9").json
    assert past["data"] == [] and past["pagination"]["total"] == 5
    filtered = api.get("/api/tasks?search=t&limit=2&page=3").json
    assert [t["title"] for t in filtered["data"]] == ["t0"]
    assert filtered["pagination"] == {"page": 3, "limit": 2, "total": 5, "totalPages": 3}
    beyond = api.get("/api/tasks?search=t&limit=2&page=4").json
    assert beyond["data"] == [] and beyond["pagination"]["total"] == 5
    clamped = api.get("/api/tasks?limit=9999").json
    assert clamped["pagination"]["limit"] == 500
    assert api.get("/api/tasks").json["pagination"]["limit"] == 100


def test_empty_list(api):
    assert api.get("/api/tasks?includeDeleted=true").json["pagination"]["total"] == 0
    body = api.get("/api/tasks").json
    assert body == {
        "data": [],
        "pagination": {"page": 1, "limit": 100, "total": 0, "totalPages": 0},
    }


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=bad", "status"),
        ("status=todo,nope", "status"),
        ("priority=4", "priority"),
        ("priority=0", "priority"),
        ("priority=high", "priority"),
        ("projectId=abc", "projectId"),
        ("dueAfter=tomorrow", "dueAfter"),
        ("dueBefore=2026-13-01", "dueBefore"),
        ("sort=name", "sort"),
        ("order=up", "order"),
        ("page=0", "page"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("includeDeleted=yes", "includeDeleted"),
    ],
)
def test_bad_list_queries_are_400(api, query, field):
    response = api.get(f"/api/tasks?{query}")
    assert response.status_code == 400
    assert field in response.json["errors"]


# ------------------------------------------------------------------ tags and reminders


def test_tag_list_is_distinct_sorted_and_live_only(api):
    make_task(api, tags=["bug", "Zeta", "alpha"])
    make_task(api, tags=["Bug", "bug"])
    gone = make_task(api, tags=["secret"])
    api.delete(f"/api/tasks/{gone['id']}")
    response = api.get("/api/tasks/tags")
    assert response.status_code == 200
    assert response.json["data"] == ["alpha", "Bug", "bug", "Zeta"]


def test_task_reminders(api):
    task = make_task(api)
    for when in ("2026-03-01T00:00:00Z", "2026-01-01T00:00:00Z"):
        api.post("/api/reminders", json={"taskId": task["id"], "message": when, "remindAt": when})
    api.post("/api/reminders", json={"message": "unrelated", "remindAt": "2026-01-01"})
    listed = api.get(f"/api/tasks/{task['id']}/reminders").json["data"]
    assert [r["message"] for r in listed] == ["2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"]
    assert listed[0]["task"] == {"id": task["id"], "title": "Review PR"}
    api.delete(f"/api/tasks/{task['id']}")
    still = api.get(f"/api/tasks/{task['id']}/reminders")
    assert still.status_code == 200 and len(still.json["data"]) == 2
    assert api.get(f"/api/tasks/{MISSING}/reminders").status_code == 404


# ------------------------------------------------------------------ bad input changes nothing


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"title": 3}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"title": "t", "description": "d" * 100_001}, "description"),
        ({"title": "t", "status": "finished"}, "status"),
        ({"title": "t", "status": None}, "status"),
        ({"title": "t", "priority": 0}, "priority"),
        ({"title": "t", "priority": 4}, "priority"),
        ({"title": "t", "priority": "high"}, "priority"),
        ({"title": "t", "priority": "2"}, "priority"),
        ({"title": "t", "priority": 2.5}, "priority"),
        ({"title": "t", "priority": True}, "priority"),
        ({"title": "t", "priority": None}, "priority"),
        ({"title": "t", "dueDate": "next tuesday"}, "dueDate"),
        ({"title": "t", "dueDate": "20/02/2026"}, "dueDate"),
        ({"title": "t", "dueDate": 1700000000}, "dueDate"),
        ({"title": "t", "tags": "a,b"}, "tags"),
        ({"title": "t", "tags": None}, "tags"),
        ({"title": "t", "tags": ["ok", 5]}, "tags.1"),
        ({"title": "t", "tags": ["ok", "  "]}, "tags.1"),
        ({"title": "t", "tags": ["x" * 51]}, "tags.0"),
        ({"title": "t", "tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"title": "t", "projectId": "not-a-uuid"}, "projectId"),
        ({"title": "t", "projectId": MISSING}, "projectId"),
    ],
)
def test_bad_create_bodies_change_nothing(api, body, field):
    response = api.post("/api/tasks", json=body)
    assert response.status_code == 400, response.json
    assert field in response.json["errors"], response.json
    assert all_tasks(api) == []


def test_deleted_project_is_rejected(api):
    project = make_project(api)
    api.delete(f"/api/projects/{project['id']}")
    response = api.post("/api/tasks", json={"title": "t", "projectId": project["id"]})
    assert response.status_code == 400 and "projectId" in response.json["errors"]
    task = make_task(api)
    response = api.put(f"/api/tasks/{task['id']}", json={"projectId": project["id"]})
    assert response.status_code == 400 and "projectId" in response.json["errors"]
    assert all_tasks(api) == [task]


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "No updatable fields provided"),
        ({"nonsense": True}, "No updatable fields provided"),
        ({"title": " "}, "Validation failed"),
        ({"status": None}, "Validation failed"),
        ({"priority": 4}, "Validation failed"),
        ({"tags": [1]}, "Validation failed"),
        ({"dueDate": "soon"}, "Validation failed"),
        ({"projectId": MISSING}, "Validation failed"),
        ({"title": "ok", "status": "nope"}, "Validation failed"),
    ],
)
def test_bad_updates_change_nothing(api, body, message):
    task = make_task(api)
    response = api.put(f"/api/tasks/{task['id']}", json=body)
    assert response.status_code == 400
    assert response.json["message"] == message
    assert all_tasks(api) == [task]


def test_events_are_published_after_commit(app, api):
    import json

    import redis

    from cognova.services.notifications import channel

    with app.app_context():
        subscriber = redis.Redis.from_url(app.config["REDIS_URL"]).pubsub()
        subscriber.subscribe(channel())
        subscriber.get_message(timeout=1)
    task = make_task(api, title="Evented")
    api.put(f"/api/tasks/{task['id']}", json={"status": "done"})
    api.delete(f"/api/tasks/{task['id']}")
    api.post(f"/api/tasks/{task['id']}/restore")
    api.post("/api/tasks", json={"title": " "})
    seen = []
    while (message := subscriber.get_message(timeout=1)) is not None:
        seen.append(json.loads(message["data"]))
    subscriber.close()
    assert [(e["resource"], e["action"]) for e in seen] == [
        ("task", "create"),
        ("task", "edit"),
        ("task", "delete"),
        ("task", "restore"),
    ]
    assert {e["resourceId"] for e in seen} == {task["id"]}
    assert seen[0]["resourceName"] == "Evented"


def test_task_routes_need_authentication(client):
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks/tags").status_code == 401


def test_list_items_are_exactly_the_task_objects(app, api):
    """The list serialises its rows directly; each item must equal GET /api/tasks/<id>."""
    project = make_project(api, name="Home", color="#10b981")
    gone = make_project(api, name="Old")
    made = [
        make_task(
            api,
            title="Everything",
            description="**md**",
            status="done",
            priority=3,
            projectId=project["id"],
            dueDate="2026-03-01T09:30:00.123456+02:00",
            tags=["a", "b"],
        ),
        make_task(api, title="Bare"),
        make_task(api, title="Was in a deleted project", projectId=gone["id"]),
        make_task(api, title="Edited then deleted", tags=["x"]),
    ]
    api.delete(f"/api/projects/{gone['id']}")
    api.put(f"/api/tasks/{made[3]['id']}", json={"priority": 1})
    api.delete(f"/api/tasks/{made[3]['id']}")
    with app.app_context():  # a task whose creator is gone
        db.session.execute(sa.update(Task).where(Task.title == "Bare").values(created_by=None))
        db.session.commit()
    for query in ("includeDeleted=true", "includeDeleted=true&search=e", "tag=x&includeDeleted=1"):
        listed = api.get(f"/api/tasks?{query}").json["data"]
        assert listed
        for item in listed:
            one = api.get(f"/api/tasks/{item['id']}?includeDeleted=true").json["data"]
            assert item == one
            assert list(item) == list(one)
    assert {i["title"] for i in api.get("/api/tasks?includeDeleted=true").json["data"]} == {
        t["title"] for t in made
    }


def test_list_timestamps_truncate_to_the_millisecond_like_single_tasks(api):
    task = make_task(api, title="Late", dueDate="2026-12-31T23:59:59.999999Z")
    assert task["dueDate"] == "2026-12-31T23:59:59.999Z"
    assert api.get("/api/tasks").json["data"][0]["dueDate"] == "2026-12-31T23:59:59.999Z"
    assert api.get("/api/tasks?search=lat").json["data"][0]["dueDate"] == task["dueDate"]
