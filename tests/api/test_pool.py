"""Pooled database connections: checked with a ping only after sitting idle, so one that died
in the pool (a database restart while the app was quiet) is replaced without the request
noticing, while a busy app sends no ping before its statements."""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy as sa

from cognova import create_app
from cognova.config import Config
from cognova.extensions import db
from tests.conftest import TokenClient


def _app(app_env, idle: str):
    application = create_app(Config(env={**app_env, "COGNOVA_DB_PING_IDLE": idle}))
    application.config["TESTING"] = True
    return application


@pytest.fixture
def make_app(app_env):
    made = []

    def make(idle: str):
        made.append(_app(app_env, idle))
        return made[-1]

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


def _pooled_backend(application) -> int:
    """Leave one connection in the application's pool; its server process id."""
    with application.app_context():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
    return pid


def _terminate(database_url: str, pid: int) -> None:
    """End a server process and wait until it is gone."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        deadline = time.monotonic() + 5
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)


def test_a_connection_killed_while_idle_in_the_pool_is_replaced_transparently(
    make_app, app_env, user
):
    application = make_app("0")
    killed = _pooled_backend(application)
    _terminate(app_env["DATABASE_URL"], killed)

    response = TokenClient(application.test_client()).get("/api/tasks?limit=5")

    assert response.status_code == 200, response.json
    assert _pooled_backend(application) != killed


def test_every_connection_pooled_before_a_failed_ping_is_dropped(make_app, app_env, user):
    application = make_app("0")
    with application.app_context():
        first, second = db.engine.connect(), db.engine.connect()
        pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in (first, second)]
        first.close()
        second.close()
    for pid in pids:
        _terminate(app_env["DATABASE_URL"], pid)

    client = TokenClient(application.test_client())
    assert client.get("/api/tasks?limit=5").status_code == 200
    assert client.get("/api/tasks?limit=5").status_code == 200


def test_a_recently_used_connection_is_not_pinged(make_app, app_env, user):
    """Within the idle threshold no round trip checks the connection: one killed meanwhile
    fails that request (503 in the envelope), and the next one gets a new connection."""
    application = make_app("3600")
    killed = _pooled_backend(application)
    _terminate(app_env["DATABASE_URL"], killed)
    client = TokenClient(application.test_client())

    response = client.get("/api/tasks?limit=5")

    assert response.status_code == 503
    assert response.json["message"] == "Database unavailable"
    assert client.get("/api/tasks?limit=5").status_code == 200
