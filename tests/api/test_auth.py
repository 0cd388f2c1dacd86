"""Sign-up, sign-in, sessions, tokens and CSRF (API.md §2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import Account, Session, User
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, API_TOKEN, sign_in

COOKIE = "cognova.session_token"


def cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# ------------------------------------------------------------------ sign-up


def test_first_user_signs_up_and_gets_a_session(client, app):
    response = client.post(
        "/api/auth/sign-up/email",
        json={"name": "  Ada  ", "email": " Ada@Example.COM ", "password": "longenough"},
    )
    assert response.status_code == 201
    data = response.json["data"]
    assert data["user"]["email"] == "ada@example.com"
    assert data["user"]["name"] == "Ada"
    assert data["user"]["emailVerified"] is False
    assert len(data["user"]["id"]) == 32 and data["user"]["id"].isalnum()
    assert data["session"]["current"] is True
    assert "token" not in data["session"]
    assert len(data["csrfToken"]) == 64
    header = cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Max-Age=604800" in header
    assert "Secure" not in header
    with app.app_context():
        account = db.session.scalar(sa.select(Account))
        assert account.provider_id == "credential" and account.account_id == account.user_id
        assert len(account.password.split(":")[0]) == 32


def test_sign_up_is_disabled_once_a_user_exists(client, user, app):
    response = client.post("/api/auth/sign-up/email", data="not json")
    assert response.status_code == 403
    assert response.json["message"] == "Sign-up is disabled"
    assert count(app, User) == 1


def test_sign_up_allowed_by_policy_rejects_a_taken_email(client, user, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_SIGNUP", True)
    response = client.post(
        "/api/auth/sign-up/email",
        json={"name": "Other", "email": ADMIN_EMAIL.upper(), "password": "longenough"},
    )
    assert response.status_code == 409
    ok = client.post(
        "/api/auth/sign-up/email",
        json={"name": "Other", "email": "other@example.com", "password": "longenough"},
    )
    assert ok.status_code == 201
    assert count(app, User) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@b.co", "password": "longenough"}, "name"),
        ({"name": "   ", "email": "a@b.co", "password": "longenough"}, "name"),
        ({"name": "x" * 101, "email": "a@b.co", "password": "longenough"}, "name"),
        ({"name": "A", "email": "not-an-email", "password": "longenough"}, "email"),
        ({"name": "A", "email": "a@nodot", "password": "longenough"}, "email"),
        ({"name": "A", "email": "a b@c.de", "password": "longenough"}, "email"),
        ({"name": "A", "email": "a@b.co", "password": "short"}, "password"),
        ({"name": "A", "email": "a@b.co", "password": "x" * 129}, "password"),
        ({"name": "A", "email": "a@b.co", "password": 12345678}, "password"),
        ({"name": "A", "email": "a@b.co", "password": "longenough", "image": 5}, "image"),
    ],
)
def test_sign_up_validation(client, app, body, field):
    response = client.post("/api/auth/sign-up/email", json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert count(app, User) == 0


# ------------------------------------------------------------------ sign-in


def test_sign_in_sets_a_cookie_and_get_session_reads_it(client, user):
    response = client.post(
        "/api/auth/sign-in/email", json={"email": ADMIN_EMAIL.upper(), "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json["data"]["user"]["email"] == ADMIN_EMAIL
    session = client.get("/api/auth/get-session").json["data"]
    assert session["authMethod"] == "session"
    assert session["csrfToken"] == response.json["data"]["csrfToken"]
    assert session["session"]["userAgent"]


@pytest.mark.parametrize(
    ("email", "password"),
    [(ADMIN_EMAIL, "wrong password"), ("nobody@example.com", ADMIN_PASSWORD)],
)
def test_wrong_credentials_get_the_same_401(client, user, email, password):
    response = client.post("/api/auth/sign-in/email", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.json["message"] == "Invalid email or password"
    assert COOKIE not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "body", [{}, {"email": ADMIN_EMAIL}, {"email": 5, "password": "x"}, {"password": "x"}]
)
def test_sign_in_with_missing_or_wrong_typed_fields_is_400(client, user, body):
    response = client.post("/api/auth/sign-in/email", json=body)
    assert response.status_code == 400
    assert response.json["errors"]


def test_five_failures_block_the_key_even_for_the_right_password(client, user):
    for _ in range(5):
        assert (
            client.post(
                "/api/auth/sign-in/email", json={"email": ADMIN_EMAIL, "password": "nope-nope"}
            ).status_code
            == 401
        )
    blocked = client.post(
        "/api/auth/sign-in/email", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert blocked.status_code == 429
    assert blocked.json["message"] == "Too many failed sign-in attempts"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 900
    other = client.post(
        "/api/auth/sign-in/email", json={"email": "other@example.com", "password": "nope-nope"}
    )
    assert other.status_code == 401


def test_a_success_clears_earlier_failures(client, user):
    for _ in range(4):
        client.post("/api/auth/sign-in/email", json={"email": ADMIN_EMAIL, "password": "nope-nope"})
    sign_in(client)
    for _ in range(4):
        response = client.post(
            "/api/auth/sign-in/email", json={"email": ADMIN_EMAIL, "password": "nope-nope"}
        )
        assert response.status_code == 401


def test_sign_in_from_an_untrusted_origin_is_refused(client, user):
    response = client.post(
        "/api/auth/sign-in/email",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


# ------------------------------------------------------------------ sessions


def test_get_session_without_credentials_is_null(client):
    response = client.get("/api/auth/get-session")
    assert response.status_code == 200
    assert response.json == {"data": None}


def test_get_session_with_the_token(api):
    data = api.get("/api/auth/get-session").json["data"]
    assert data["authMethod"] == "token"
    assert data["session"] is None and data["csrfToken"] is None
    assert data["user"]["email"] == ADMIN_EMAIL


def test_a_wrong_token_is_not_authenticated_even_with_a_cookie(auth):
    response = auth.client.get("/api/auth/get-session", headers={"X-API-Token": "wrong"})
    assert response.json == {"data": None}
    protected = auth.client.get("/api/auth/list-sessions", headers={"X-API-Token": "wrong"})
    assert protected.status_code == 401


def test_bearer_token_works_and_other_schemes_are_ignored(client, user):
    bearer = client.get("/api/auth/list-sessions", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert bearer.status_code == 200
    basic = client.get("/api/auth/list-sessions", headers={"Authorization": f"Basic {API_TOKEN}"})
    assert basic.status_code == 401


def test_token_with_no_user_yet(client):
    response = client.get("/api/auth/list-sessions", headers={"X-API-Token": API_TOKEN})
    assert response.status_code == 401
    assert response.json["message"] == "No user exists yet"


def test_sign_out_deletes_the_session_and_clears_the_cookie(auth, app):
    response = auth.post("/api/auth/sign-out")
    assert response.status_code == 200
    assert "Max-Age=0" in cookie_header(response)
    assert count(app, Session) == 0
    assert auth.client.get("/api/auth/list-sessions").status_code == 401


def test_an_expired_session_is_401_and_the_cookie_is_cleared(auth, app):
    with app.app_context():
        db.session.execute(
            sa.update(Session).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    response = auth.client.get("/api/auth/list-sessions")
    assert response.status_code == 401
    assert response.json["message"] == "Authentication required"
    assert "Max-Age=0" in cookie_header(response)


def test_a_forged_cookie_is_401(client, user):
    client.set_cookie(COOKIE, "forgedtokenvalue.bad-signature")
    assert client.get("/api/auth/list-sessions").status_code == 401


def test_a_day_old_session_is_refreshed_on_use(auth, app):
    old = datetime.now(UTC) - timedelta(hours=25)
    with app.app_context():
        db.session.execute(
            sa.update(Session).values(updated_at=old, expires_at=old + timedelta(days=7))
        )
        db.session.commit()
    response = auth.client.get("/api/auth/list-sessions")
    assert response.status_code == 200
    assert "Max-Age=604800" in cookie_header(response)
    with app.app_context():
        session = db.session.scalar(sa.select(Session))
        assert session.expires_at > datetime.now(UTC) + timedelta(days=6, hours=23)


def test_list_and_revoke_sessions(app, user):
    first = sign_in(app.test_client())
    second = sign_in(app.test_client())
    listed = first.get("/api/auth/list-sessions").json["data"]
    assert len(listed) == 2
    assert [s["current"] for s in listed].count(True) == 1
    assert listed[0]["createdAt"] >= listed[1]["createdAt"]
    missing = first.post("/api/auth/revoke-session", json={"id": "nope"})
    assert missing.status_code == 404
    revoked = first.post("/api/auth/revoke-session", json={"id": second.session["id"]})
    assert revoked.status_code == 200
    assert second.get("/api/auth/list-sessions").status_code == 401


def test_revoke_other_sessions_keeps_the_current_one(app, user):
    keep = sign_in(app.test_client())
    others = [sign_in(app.test_client()) for _ in range(2)]
    response = keep.post("/api/auth/revoke-other-sessions")
    assert response.json["data"] == {"success": True, "revokedSessions": 2}
    assert keep.get("/api/auth/list-sessions").status_code == 200
    assert all(o.get("/api/auth/list-sessions").status_code == 401 for o in others)


# ------------------------------------------------------------------ account


def test_update_user(auth):
    response = auth.post(
        "/api/auth/update-user", json={"name": " New Name ", "email": "NEW@example.com"}
    )
    assert response.status_code == 200
    user = response.json["data"]["user"]
    assert user["name"] == "New Name" and user["email"] == "new@example.com"
    assert auth.post("/api/auth/update-user", json={}).json["message"] == (
        "No updatable fields provided"
    )
    assert auth.post("/api/auth/update-user", json={"name": None}).status_code == 400


def test_change_password_revokes_other_sessions(app, user):
    me = sign_in(app.test_client())
    other = sign_in(app.test_client())
    wrong = me.post(
        "/api/auth/change-password",
        json={"currentPassword": "not it at all", "newPassword": "a brand new one"},
    )
    assert wrong.status_code == 400 and "currentPassword" in wrong.json["errors"]
    short = me.post(
        "/api/auth/change-password",
        json={"currentPassword": ADMIN_PASSWORD, "newPassword": "short"},
    )
    assert short.status_code == 400 and "newPassword" in short.json["errors"]
    response = me.post(
        "/api/auth/change-password",
        json={"currentPassword": ADMIN_PASSWORD, "newPassword": "a brand new one"},
    )
    assert response.json["data"] == {"success": True, "revokedSessions": 1}
    assert me.get("/api/auth/list-sessions").status_code == 200
    assert other.get("/api/auth/list-sessions").status_code == 401
    assert sign_in(app.test_client(), password="a brand new one")


# ------------------------------------------------------------------ CSRF


def test_cookie_mutations_need_the_csrf_token_or_a_trusted_origin(auth, app):
    bare = auth.client.post("/api/auth/update-user", json={"name": "X"})
    assert bare.status_code == 403 and bare.json["message"] == "CSRF check failed"
    wrong = auth.client.post(
        "/api/auth/update-user", json={"name": "X"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    evil = auth.client.post(
        "/api/auth/update-user", json={"name": "X"}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    null = auth.client.post("/api/auth/update-user", json={"name": "X"}, headers={"Origin": "null"})
    assert null.status_code == 403
    own = auth.client.post(
        "/api/auth/update-user", json={"name": "Y"}, headers={"Origin": "http://localhost"}
    )
    assert own.status_code == 200
    referer = auth.client.post(
        "/api/auth/update-user",
        json={"name": "Z"},
        headers={"Referer": app.config["BASE_URL"] + "/settings"},
    )
    assert referer.status_code == 200


def test_token_requests_skip_csrf(api):
    assert api.post("/api/auth/update-user", json={"name": "Bot"}).status_code == 200


def test_secure_cookie_when_the_base_url_is_https(client, user, app, monkeypatch):
    monkeypatch.setitem(app.config, "SECURE_COOKIES", True)
    response = client.post(
        "/api/auth/sign-in/email", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert "Secure" in cookie_header(response)
