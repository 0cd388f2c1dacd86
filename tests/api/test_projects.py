"""Projects (API.md §4)."""

from __future__ import annotations

import pytest

PROJECT_KEYS = {
    "id",
    "name",
    "color",
    "description",
    "taskCount",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "createdBy",
    "modifiedBy",
    "deletedBy",
}


def make_project(client, **fields):
    body = {"name": "Backend", "color": "#3b82f6", **fields}
    response = client.post("/api/projects", json=body)
    assert response.status_code == 201, response.json
    return response.json["data"]


def all_projects(client):
    return client.get("/api/projects?includeDeleted=true").json["data"]


def test_create_returns_the_full_object_with_audit_fields(auth):
    data = make_project(auth, name="  Backend  ", description="**md**")
    assert set(data) == PROJECT_KEYS
    assert data["name"] == "Backend"
    assert data["color"] == "#3b82f6"
    assert data["description"] == "**md**"
    assert data["taskCount"] == 0
    assert data["createdBy"] == auth.user["id"]
    assert data["modifiedAt"] is None and data["modifiedBy"] is None
    assert data["deletedAt"] is None and data["deletedBy"] is None
    assert data["createdAt"].endswith("Z") and len(data["createdAt"]) == 24


def test_list_is_ordered_by_lowercase_name_then_creation(api):
    for name in ("beta", "Alpha", "alpha", "Gamma"):
        make_project(api, name=name)
    names = [p["name"] for p in api.get("/api/projects").json["data"]]
    assert names == ["Alpha", "alpha", "beta", "Gamma"]


def test_search_is_a_case_insensitive_substring_with_literal_wildcards(api):
    make_project(api, name="Home renovation")
    make_project(api, name="100% done")
    make_project(api, name="Work")
    assert [p["name"] for p in api.get("/api/projects?search=RENO").json["data"]] == [
        "Home renovation"
    ]
    assert [p["name"] for p in api.get("/api/projects?search=%25").json["data"]] == ["100% done"]


def test_task_count_counts_live_tasks_only(api):
    project = make_project(api)
    other = make_project(api, name="Other")
    ids = [
        api.post("/api/tasks", json={"title": f"t{i}", "projectId": project["id"]}).json["data"][
            "id"
        ]
        for i in range(3)
    ]
    api.delete(f"/api/tasks/{ids[0]}")
    listed = {p["id"]: p["taskCount"] for p in api.get("/api/projects").json["data"]}
    assert listed == {project["id"]: 2, other["id"]: 0}
    assert api.get(f"/api/projects/{project['id']}").json["data"]["taskCount"] == 2


def test_update_is_partial_and_sets_modified(auth):
    project = make_project(auth, description="keep me")
    response = auth.put(f"/api/projects/{project['id']}", json={"color": "#ABCDEF"})
    assert response.status_code == 200
    data = response.json["data"]
    assert data["color"] == "#ABCDEF"
    assert data["name"] == "Backend" and data["description"] == "keep me"
    assert data["modifiedAt"] is not None and data["modifiedBy"] == auth.user["id"]
    cleared = auth.put(f"/api/projects/{project['id']}", json={"description": None})
    assert cleared.json["data"]["description"] is None


def test_delete_and_restore(auth):
    project = make_project(auth)
    task = auth.post("/api/tasks", json={"title": "t", "projectId": project["id"]}).json["data"]
    deleted = auth.delete(f"/api/projects/{project['id']}")
    assert deleted.status_code == 200
    assert deleted.json["data"]["deletedAt"] is not None
    assert deleted.json["data"]["deletedBy"] == auth.user["id"]
    assert auth.get("/api/projects").json["data"] == []
    assert auth.get(f"/api/projects/{project['id']}").status_code == 404
    assert auth.get(f"/api/projects/{project['id']}?includeDeleted=true").status_code == 200
    assert auth.delete(f"/api/projects/{project['id']}").status_code == 404
    assert auth.put(f"/api/projects/{project['id']}", json={"name": "x"}).status_code == 404
    # tasks keep their projectId, and still show the (deleted) project
    kept = auth.get(f"/api/tasks/{task['id']}").json["data"]
    assert kept["projectId"] == project["id"] and kept["project"]["name"] == "Backend"

    restored = auth.post(f"/api/projects/{project['id']}/restore")
    assert restored.status_code == 200
    data = restored.json["data"]
    assert data["deletedAt"] is None and data["deletedBy"] is None
    assert data["modifiedBy"] == auth.user["id"] and data["modifiedAt"] is not None
    again = auth.post(f"/api/projects/{project['id']}/restore")
    assert again.status_code == 400 and again.json["message"] == "Not deleted"


def test_missing_rows_are_404(api):
    missing = "00000000-0000-4000-8000-000000000000"
    assert api.get(f"/api/projects/{missing}").status_code == 404
    assert api.put(f"/api/projects/{missing}", json={"name": "x"}).status_code == 404
    assert api.delete(f"/api/projects/{missing}").status_code == 404
    assert api.post(f"/api/projects/{missing}/restore").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_malformed_ids_are_400(api, method):
    response = getattr(api, method)("/api/projects/not-a-uuid", json={"name": "x"})
    assert response.status_code == 400
    assert response.json["message"] == "Invalid id"
    assert response.json["errors"] == {"id": "must be a UUID"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"color": "#3b82f6"}, "name"),
        ({"name": "   ", "color": "#3b82f6"}, "name"),
        ({"name": "x" * 201, "color": "#3b82f6"}, "name"),
        ({"name": None, "color": "#3b82f6"}, "name"),
        ({"name": 5, "color": "#3b82f6"}, "name"),
        ({"name": "a"}, "color"),
        ({"name": "a", "color": "red"}, "color"),
        ({"name": "a", "color": "#12345"}, "color"),
        ({"name": "a", "color": "#1234567"}, "color"),
        ({"name": "a", "color": "#12345g"}, "color"),
        ({"name": "a", "color": None}, "color"),
        ({"name": "a", "color": "#123456", "description": "d" * 10_001}, "description"),
        ({"name": "a", "color": "#123456", "description": 7}, "description"),
    ],
)
def test_bad_create_bodies_change_nothing(api, body, field):
    response = api.post("/api/projects", json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert all_projects(api) == []


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "No updatable fields provided"),
        ({"unknown": 1}, "No updatable fields provided"),
        ({"name": None}, "Validation failed"),
        ({"color": "blue"}, "Validation failed"),
        ({"name": "  "}, "Validation failed"),
    ],
)
def test_bad_updates_change_nothing(api, body, message):
    project = make_project(api)
    response = api.put(f"/api/projects/{project['id']}", json=body)
    assert response.status_code == 400
    assert response.json["message"] == message
    assert all_projects(api) == [project]


def test_malformed_json_and_non_objects(api):
    response = api.post("/api/projects", data="{nope", content_type="application/json")
    assert response.status_code == 400 and response.json["message"] == "Malformed JSON body"
    response = api.post("/api/projects", json=["a"])
    assert response.json["message"] == "Request body must be a JSON object"
    assert all_projects(api) == []


def test_bad_query_values(api):
    response = api.get("/api/projects?includeDeleted=maybe")
    assert response.status_code == 400 and "includeDeleted" in response.json["errors"]


def test_requires_authentication(client):
    assert client.get("/api/projects").status_code == 401
