"""The user API-token requests act as (API.md §2.2): looked up once, then remembered."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import User
from cognova.services import admin, auth
from tests.conftest import API_TOKEN


def token_get(client, path="/api/auth/get-session"):
    return client.get(path, headers={"X-API-Token": API_TOKEN})


def count_user_lookups(app):
    seen = []

    def listener(_conn, _cursor, statement, *_args):
        if 'FROM "user"' in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    return seen, lambda: sa.event.remove(engine, "before_cursor_execute", listener)


def test_the_token_user_is_looked_up_once(app, client, user):
    seen, stop = count_user_lookups(app)
    try:
        for _ in range(3):
            response = client.post(
                "/api/hooks/events",
                json={"eventType": "SessionStart"},
                headers={"X-API-Token": API_TOKEN},
            )
            assert response.status_code == 201
    finally:
        stop()
    assert len(seen) == 1


def test_the_token_user_is_looked_up_again_after_the_expiry(app, client, user, monkeypatch):
    monkeypatch.setattr(auth, "TOKEN_USER_TTL", -1.0)
    seen, stop = count_user_lookups(app)
    try:
        for _ in range(2):
            assert token_get(client, "/api/hooks/stats").status_code == 200
    finally:
        stop()
    assert len(seen) == 2


def test_no_user_is_never_remembered(app, client):
    assert token_get(client, "/api/auth/list-sessions").status_code == 401
    with app.app_context():
        admin.seed_admin("ada@example.com", "Ada", "correct horse battery")
        db.session.remove()
    response = token_get(client)
    assert response.status_code == 200
    assert response.json["data"]["user"]["email"] == "ada@example.com"


def test_a_remembered_user_removed_by_hand_is_replaced_by_the_next_earliest(app, client, user):
    assert token_get(client).json["data"]["user"]["email"] == "ada@example.com"
    with app.app_context():
        first = db.session.get(User, user.id)
        second = User(
            id="second-user-id",
            name="Grace",
            email="grace@example.com",
            email_verified=False,
            created_at=first.created_at + timedelta(seconds=1),
            updated_at=first.created_at,
        )
        db.session.add(second)
        db.session.flush()
        db.session.execute(sa.delete(User).where(User.id == user.id))
        db.session.commit()
    assert token_get(client).json["data"]["user"]["email"] == "grace@example.com"
    with app.app_context():
        db.session.execute(sa.delete(User))
        db.session.commit()
    response = token_get(client, "/api/auth/list-sessions")
    assert response.status_code == 401
    assert response.json["message"] == "No user exists yet"
