"""The error envelope (API.md §1.2-1.3) from the one handler."""

from __future__ import annotations

import pytest
from flask import Blueprint


def test_unknown_route_for_a_signed_in_caller_is_404_in_the_envelope(api):
    response = api.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json == {
        "statusCode": 404,
        "statusMessage": "Not Found",
        "message": "Not found",
    }


def test_trailing_slash_is_404(api):
    assert api.get("/api/auth/list-sessions/").status_code == 404


def test_wrong_method_is_405_with_allow(api):
    response = api.put("/api/auth/list-sessions")
    assert response.status_code == 405
    assert response.json["statusMessage"] == "Method Not Allowed"
    assert response.headers["Allow"] == "GET, HEAD"


def test_head_works_wherever_get_does(client):
    assert client.head("/api/health").status_code == 200


def test_malformed_json_is_400(api):
    response = api.post("/api/auth/update-user", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"] == "Malformed JSON body"


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null"])
def test_a_body_that_is_not_an_object_is_400(api, body):
    response = api.post("/api/auth/update-user", data=body)
    assert response.status_code == 400
    assert response.json["message"] == "Request body must be a JSON object"


def test_json_is_parsed_whatever_the_content_type(api):
    response = api.post(
        "/api/auth/update-user", data='{"name": "Plain"}', content_type="text/plain"
    )
    assert response.status_code == 200


def test_an_empty_body_counts_as_an_empty_object(api):
    response = api.post("/api/auth/update-user", data="")
    assert response.json["message"] == "No updatable fields provided"


def test_a_declared_oversize_body_is_413_before_authentication(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_BODY_BYTES", 100)
    response = client.post("/api/auth/update-user", data="x" * 101)
    assert response.status_code == 413
    assert response.json["statusCode"] == 413


def test_validation_errors_name_each_field(api):
    response = api.post(
        "/api/auth/change-password", json={"currentPassword": 5, "newPassword": "short"}
    )
    assert response.status_code == 400
    assert response.json["message"] == "Validation failed"
    assert set(response.json["errors"]) == {"currentPassword", "newPassword"}


def test_an_unexpected_error_is_500_without_a_stack_trace(app_env, user):
    from cognova import create_app
    from cognova.config import Config
    from cognova.extensions import db
    from tests.conftest import API_TOKEN

    fresh = create_app(Config(env=app_env))
    probe = Blueprint("explode", __name__)

    @probe.get("/api/explode")
    def explode():
        raise RuntimeError("secret internals")

    fresh.register_blueprint(probe)
    response = fresh.test_client().get("/api/explode", headers={"X-API-Token": API_TOKEN})
    assert response.status_code == 500
    assert response.json["message"] == "Internal server error"
    assert "secret" not in response.get_data(as_text=True)
    with fresh.app_context():
        db.engine.dispose()


def test_pages_render_html_errors(auth):
    response = auth.client.get("/no-such-page")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert b"Go to the dashboard" in response.data
