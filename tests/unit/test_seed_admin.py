"""``flask seed-admin`` and ``scripts/seed_admin.py``: idempotent, --reset-password, shown once."""

from __future__ import annotations

import re
import subprocess
import sys

import sqlalchemy as sa

from cognova.config import ROOT
from cognova.extensions import db
from cognova.models import User
from cognova.services import auth
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.jobs.processes import child_env


def _users(app) -> list[User]:
    with app.app_context():
        users = list(db.session.scalars(sa.select(User)))
        db.session.remove()
        return users


def _password_works(app, email: str, password: str) -> bool:
    with app.app_context():
        ok = auth.check_credentials(email, password) is not None
        db.session.remove()
        return ok


def _printed_password(output: str) -> str | None:
    match = re.search(r"password: (\S+)", output)
    return match.group(1) if match else None


def test_seed_admin_creates_once_from_the_environment(app, runner):
    first = runner.invoke(args=["seed-admin", "--name", "Ada"])
    assert first.exit_code == 0, first.output
    assert f"Created admin {ADMIN_EMAIL}." in first.output
    assert _printed_password(first.output) is None  # ADMIN_PASSWORD was given, nothing to show

    again = runner.invoke(args=["seed-admin"])
    assert again.exit_code == 0, again.output
    assert "already exists; nothing changed" in again.output
    users = _users(app)
    assert [(u.email, u.name) for u in users] == [(ADMIN_EMAIL, "Ada")]
    assert _password_works(app, ADMIN_EMAIL, ADMIN_PASSWORD)


def test_generated_password_is_printed_once_and_works(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_PASSWORD", None)
    first = runner.invoke(args=["seed-admin", "--email", "  Owner@Example.COM "])
    assert first.exit_code == 0, first.output
    password = _printed_password(first.output)
    assert password and len(password) >= 20
    assert _password_works(app, "owner@example.com", password)

    again = runner.invoke(args=["seed-admin", "--email", "owner@example.com"])
    assert again.exit_code == 0
    assert _printed_password(again.output) is None
    assert password not in again.output
    with app.app_context():
        stored = auth.credential_account(auth.find_user_by_email("owner@example.com").id)
        assert password not in stored.password  # kept only as a scrypt hash
        db.session.remove()


def test_reset_password_with_a_given_or_generated_password(app, runner, monkeypatch):
    assert runner.invoke(args=["seed-admin"]).exit_code == 0

    given = runner.invoke(args=["seed-admin", "--reset-password", "--password", "new password 1"])
    assert given.exit_code == 0, given.output
    assert f"Reset the password of {ADMIN_EMAIL}." in given.output
    assert _password_works(app, ADMIN_EMAIL, "new password 1")
    assert not _password_works(app, ADMIN_EMAIL, ADMIN_PASSWORD)

    monkeypatch.setitem(app.config, "ADMIN_PASSWORD", None)
    generated = runner.invoke(args=["seed-admin", "--reset-password"])
    assert generated.exit_code == 0, generated.output
    password = _printed_password(generated.output)
    assert password and _password_works(app, ADMIN_EMAIL, password)
    assert not _password_works(app, ADMIN_EMAIL, "new password 1")
    assert len(_users(app)) == 1


def test_reset_password_creates_a_missing_admin(app, runner):
    result = runner.invoke(args=["seed-admin", "--reset-password"])
    assert result.exit_code == 0, result.output
    assert "Created admin" in result.output
    assert len(_users(app)) == 1


def test_bad_password_is_refused_and_changes_nothing(app, runner):
    result = runner.invoke(args=["seed-admin", "--password", "short"])
    assert result.exit_code == 2
    assert "8 to 128 characters" in result.output
    assert _users(app) == []


def test_script_uses_the_same_service(app, app_env):
    script = [sys.executable, str(ROOT / "scripts" / "seed_admin.py")]
    env = child_env(app_env, ADMIN_NAME="Script Admin")

    def run(*args):
        done = subprocess.run(
            [*script, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert f"Created admin {ADMIN_EMAIL}." in run()
    assert "nothing changed" in run()
    assert [u.name for u in _users(app)] == ["Script Admin"]

    env.pop("ADMIN_PASSWORD")
    out = run("--reset-password")
    password = _printed_password(out)
    assert password and _password_works(app, ADMIN_EMAIL, password)
