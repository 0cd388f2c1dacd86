"""A database made by the TypeScript version is adopted, not recreated; its data is kept."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from cognova import boot, create_app
from cognova.config import Config
from cognova.extensions import db
from cognova.services.auth import check_credentials
from tests.conftest import _with_database
from tests.schema_check import describe_database, differences, parse_schema_txt

SQL = (Path(__file__).parent.parent / "fixtures" / "typescript_schema.sql").read_text()
# A hash made outside the project by the TypeScript version's algorithm (see test_passwords).
LEGACY_HASH = (
    "00112233445566778899aabbccddeeff:"
    "e183b8a199c9aab6767650abf5f6e63d70b91c252f37d4e91435f423f5b168c1"
    "e3e048237cd14c292381c8918856a0f3ed4420feb3e03be595eef47882fb92fe"
)


@pytest.fixture
def scratch_database(server_urls):
    server, _ = server_urls
    name = f"cognova_adopt_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(server, name)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _app_for(url: str, app_env: dict):
    return create_app(Config(env={**app_env, "DATABASE_URL": url}))


def test_an_existing_typescript_database_is_stamped_and_keeps_its_data(scratch_database, app_env):
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(SQL)
        conn.execute(
            'INSERT INTO "user" (id, name, email) '
            "VALUES ('legacyuser', 'Grace', 'grace@example.com')"
        )
        conn.execute(
            "INSERT INTO account (id, user_id, account_id, provider_id, password) "
            "VALUES ('acc1', 'legacyuser', 'legacyuser', 'credential', %s)",
            (LEGACY_HASH,),
        )
        conn.execute("INSERT INTO tasks (title, tags) VALUES ('Carried over', '{old}')")
    app = _app_for(scratch_database, app_env)
    with app.app_context():
        assert boot.migrate_database() == "adopted"
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT title, tags FROM tasks")).one() == (
                "Carried over",
                ["old"],
            )
            assert differences(parse_schema_txt(), describe_database(conn)) == []
            indexes = set(
                conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'tasks'"))
                .scalars()
                .all()
            )
        assert "ix_tasks_tags" in indexes
        assert check_credentials("grace@example.com", "Très sécret \ufb01le") is not None
        assert boot.migrate_database() == "current"
        db.session.remove()
        db.engine.dispose()


def test_an_empty_database_is_created(scratch_database, app_env):
    app = _app_for(scratch_database, app_env)
    with app.app_context():
        assert boot.migrate_database() == "created"
        assert boot.migrate_database() == "current"
        db.engine.dispose()


def test_processes_starting_together_migrate_once_without_errors(scratch_database, app_env):
    outcomes, errors = [], []

    def start():
        try:
            app = _app_for(scratch_database, app_env)
            with app.app_context():
                outcomes.append(boot.migrate_database())
                db.engine.dispose()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(outcomes) == ["created", "current", "current", "current"]
