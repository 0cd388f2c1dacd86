"""With the database unreachable, health says so with 503 and cookie routes answer 503."""

from __future__ import annotations

import socket

import pytest

from cognova import create_app
from cognova.config import Config
from cognova.extensions import db


@pytest.fixture
def broken_app(app_env):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**app_env, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/nowhere"}
    application = create_app(Config(env=env))
    yield application
    with application.app_context():
        db.engine.dispose()


def test_health_is_503_with_the_report_when_the_database_is_down(broken_app):
    response = broken_app.test_client().get("/api/health")
    assert response.status_code == 503
    body = response.json
    assert body["message"] == "Database unavailable"
    assert body["statusCode"] == 503
    assert body["data"]["status"] == "down"
    assert body["data"]["database"] is False
    assert body["data"]["redis"] is True


def test_a_cookie_request_is_503_not_500_when_the_database_is_down(broken_app):
    client = broken_app.test_client()
    client.set_cookie("cognova.session_token", "sometoken")
    response = client.get("/api/auth/list-sessions")
    assert response.status_code == 503
    assert response.json["message"] == "Database unavailable"
