"""Settings: defaults, deep merge, merge patch, validation and limits (API.md §16)."""

from __future__ import annotations

import json

import pytest

from cognova.services.settings import DEFAULTS


def test_defaults_when_nothing_stored(auth):
    response = auth.get("/api/settings")
    assert response.status_code == 200
    assert response.json["data"] == DEFAULTS


def test_requires_authentication(client, user):
    assert client.get("/api/settings").status_code == 401
    assert client.put("/api/settings", json={}).status_code == 401


def test_patch_deep_merges_and_null_restores_default(auth):
    response = auth.put(
        "/api/settings",
        json={"ui": {"theme": "dark", "usage": {"period": "30d"}}, "custom": {"a": [1, 2]}},
    )
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["ui"]["theme"] == "dark"
    assert data["ui"]["usage"] == {"period": "30d"}
    assert data["ui"]["agents"] == {"period": "7d"}
    assert data["custom"] == {"a": [1, 2]}
    assert data["notifications"] == DEFAULTS["notifications"]

    response = auth.put(
        "/api/settings",
        json={"ui": {"theme": None}, "notifications": {"preferences": {"task": {"edit": False}}}},
    )
    data = response.json["data"]
    assert data["ui"]["theme"] == "system"
    assert data["ui"]["usage"]["period"] == "30d"
    assert data["notifications"]["preferences"]["task"] == {
        "enabled": True,
        "create": True,
        "edit": False,
        "delete": True,
        "restore": True,
    }
    assert auth.get("/api/settings").json["data"] == data


def test_arrays_replace(auth):
    auth.put("/api/settings", json={"ui": {"tasks": {"status": ["todo", "done"]}}})
    data = auth.put("/api/settings", json={"ui": {"tasks": {"status": ["blocked"]}}}).json["data"]
    assert data["ui"]["tasks"] == {"status": ["blocked"], "projectId": None}


def test_empty_object_is_a_noop(auth, app):
    response = auth.put("/api/settings", json={})
    assert response.status_code == 200
    assert response.json["data"] == DEFAULTS
    response = auth.put("/api/settings", data=b"")
    assert response.status_code == 200


def test_api_token_user_has_settings(api):
    response = api.put("/api/settings", json={"chat": {"model": "claude-opus-4-1"}})
    assert response.status_code == 200
    assert api.get("/api/settings").json["data"]["chat"]["model"] == "claude-opus-4-1"


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"3", b"null", b"true"])
def test_body_must_be_an_object(auth, body):
    response = auth.put("/api/settings", data=body)
    assert response.status_code == 400
    assert response.json["message"] == "Request body must be a JSON object"


def test_malformed_json(auth):
    response = auth.put("/api/settings", data=b"{nope")
    assert response.status_code == 400
    assert response.json["message"] == "Malformed JSON body"


@pytest.mark.parametrize(
    "patch, path",
    [
        ({"ui": {"theme": "blue"}}, "ui.theme"),
        ({"ui": {"theme": 1}}, "ui.theme"),
        ({"ui": {"usage": {"period": "90d"}}}, "ui.usage.period"),
        ({"ui": {"agents": {"period": "1y"}}}, "ui.agents.period"),
        ({"ui": {"tasks": {"status": "todo"}}}, "ui.tasks.status"),
        ({"ui": {"tasks": {"status": ["todo", "nope"]}}}, "ui.tasks.status.1"),
        ({"ui": {"tasks": {"projectId": "not-a-uuid"}}}, "ui.tasks.projectId"),
        ({"ui": {"documents": {"editorMode": "vim"}}}, "ui.documents.editorMode"),
        ({"ui": {"documents": {"lastOpenedPath": 3}}}, "ui.documents.lastOpenedPath"),
        ({"ui": "dark"}, "ui"),
        ({"chat": {"model": ""}}, "chat.model"),
        ({"chat": {"model": "m" * 101}}, "chat.model"),
        ({"chat": {"model": 5}}, "chat.model"),
        ({"notifications": {"webhookUrl": "ftp://example.com"}}, "notifications.webhookUrl"),
        ({"notifications": {"webhookUrl": "javascript:alert(1)"}}, "notifications.webhookUrl"),
        (
            {"notifications": {"webhookUrl": "https://e.com/" + "a" * 2048}},
            "notifications.webhookUrl",
        ),
        (
            {"notifications": {"preferences": {"task": {"create": "yes"}}}},
            "notifications.preferences.task.create",
        ),
        (
            {"notifications": {"preferences": {"task": {"complete": True}}}},
            "notifications.preferences.task.complete",
        ),
        (
            {"notifications": {"preferences": {"widget": {"enabled": True}}}},
            "notifications.preferences.widget",
        ),
        (
            {"notifications": {"preferences": {"hook": True}}},
            "notifications.preferences.hook",
        ),
        ({"notifications": {"preferences": []}}, "notifications.preferences"),
    ],
)
def test_validation_uses_dotted_paths_and_saves_nothing(auth, patch, path):
    response = auth.put("/api/settings", json={"custom": 1, **patch})
    assert response.status_code == 400, response.json
    assert path in response.json["errors"]
    assert "custom" not in auth.get("/api/settings").json["data"]


def test_valid_values_accepted(auth):
    patch = {
        "notifications": {
            "webhookUrl": "https://hooks.example.com/cognova",
            "preferences": {"agent": {"fail": False, "enabled": False}},
        },
        "ui": {
            "tasks": {"projectId": "7E1C1B8A-2D1B-4D7B-9C5A-0A1B2C3D4E5F", "status": []},
            "documents": {"lastOpenedPath": "notes/a.md", "editorMode": "code"},
        },
    }
    response = auth.put("/api/settings", json=patch)
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["notifications"]["webhookUrl"] == "https://hooks.example.com/cognova"
    assert data["notifications"]["preferences"]["agent"]["fail"] is False
    # clearing the webhook with null shows the default again
    data = auth.put("/api/settings", json={"notifications": {"webhookUrl": None}}).json["data"]
    assert data["notifications"]["webhookUrl"] is None


def test_body_over_64_kib_is_413(auth):
    body = json.dumps({"blob": "x" * (64 * 1024)})
    response = auth.put("/api/settings", data=body, content_type="application/json")
    assert response.status_code == 413


def test_stored_object_over_64_kib_is_413_and_nothing_saved(auth):
    chunk = "y" * (40 * 1024)
    assert auth.put("/api/settings", json={"a": chunk}).status_code == 200
    response = auth.put("/api/settings", json={"b": chunk})
    assert response.status_code == 413
    data = auth.get("/api/settings").json["data"]
    assert "b" not in data and data["a"] == chunk


def test_settings_are_per_user(app, auth):
    from cognova.extensions import db
    from cognova.services import auth as auth_service
    from cognova.services import settings

    auth.put("/api/settings", json={"ui": {"theme": "dark"}})
    with app.app_context():
        other = auth_service.create_user("Bob", "bob@example.com", "password123", None)
        db.session.commit()
        assert settings.effective(other.id)["ui"]["theme"] == "system"
        assert settings.get(auth.user["id"], "ui.theme") == "dark"
        db.session.remove()


# ------------------------------------------------------------------ webhook test (extension)


@pytest.fixture
def receiver():
    """A local HTTP endpoint that records what it receives and answers with ``status``."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen: list[dict] = []
    state = {"status": 204}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            seen.append(
                {"event": self.headers.get("X-Cognova-Event"), "body": self.rfile.read(length)}
            )
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", seen, state
    server.shutdown()


def test_send_test_webhook_to_saved_url(auth, receiver):
    url, seen, state = receiver
    response = auth.post("/api/settings/test-webhook", json={})
    assert response.status_code == 400
    auth.put("/api/settings", json={"notifications": {"webhookUrl": url}})
    response = auth.post("/api/settings/test-webhook", json={})
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["ok"] is True and data["status"] == 204 and data["url"] == url
    assert seen[0]["event"] == "test"
    body = json.loads(seen[0]["body"])
    assert body["event"] == "test"
    assert set(body) == {"event", "firedAt", "reminder", "task"}
    assert set(body["reminder"]) == {"id", "message", "remindAt", "taskId"}

    state["status"] = 500
    data = auth.post("/api/settings/test-webhook", json={"url": url}).json["data"]
    assert data["ok"] is False and data["status"] == 500
    assert len(seen) == 2  # a test is sent once, never retried


def test_send_test_webhook_errors(auth):
    response = auth.post("/api/settings/test-webhook", json={"url": "ftp://x"})
    assert response.status_code == 400 and "url" in response.json["errors"]
    data = auth.post("/api/settings/test-webhook", json={"url": "http://127.0.0.1:1/x"}).json
    assert data["data"]["ok"] is False and data["data"]["error"]
