"""The secrets store over HTTP (API.md §14)."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.system import Secret
from cognova.services import secrets
from tests.conftest import AUTH_SECRET

# Encrypted by Node.js under BETTER_AUTH_SECRET "test-auth-secret" (the tests' secret), the
# way existing Cognova databases store it.
NODE_ROW = {
    "iv": "c0d827b93d434c072316c996caca297b",
    "encrypted_value": "8e6de9720366c147ce0b2b942fa9eaef476a3aa65dd713a539"
    ":98482e0f743ae40da0b9fdfcfd08c3bc",
    "plaintext": "ghp_nodeEncryptedToken123",
}


def create(auth, key="GITHUB_TOKEN", value="ghp_abc123", description="GitHub"):
    return auth.post("/api/secrets", json={"key": key, "value": value, "description": description})


def test_create_list_get_update_delete(auth, caplog):
    caplog.set_level(logging.DEBUG)
    response = create(auth)
    assert response.status_code == 201, response.json
    meta = response.json["data"]
    assert set(meta) == {"id", "key", "description", "createdAt", "updatedAt", "createdBy"}
    assert meta["key"] == "GITHUB_TOKEN" and meta["createdBy"] == auth.user["id"]
    uuid.UUID(meta["id"])

    create(auth, key="ANTHROPIC_API_KEY", value="sk-ant-xyz", description=None)
    listed = auth.get("/api/secrets")
    assert listed.status_code == 200
    assert [s["key"] for s in listed.json["data"]] == ["ANTHROPIC_API_KEY", "GITHUB_TOKEN"]
    assert "ghp_abc123" not in listed.get_data(as_text=True)
    assert "sk-ant-xyz" not in listed.get_data(as_text=True)

    got = auth.get("/api/secrets/GITHUB_TOKEN")
    assert got.status_code == 200
    assert got.json["data"]["value"] == "ghp_abc123"
    assert set(got.json["data"]) == {"key", "value", "description", "updatedAt"}

    updated = auth.put("/api/secrets/GITHUB_TOKEN", json={"value": "ghp_new"})
    assert updated.status_code == 200
    assert "value" not in updated.json["data"]
    assert updated.json["data"]["description"] == "GitHub"
    assert updated.json["data"]["updatedAt"] >= meta["updatedAt"]
    assert auth.get("/api/secrets/GITHUB_TOKEN").json["data"]["value"] == "ghp_new"

    cleared = auth.put("/api/secrets/GITHUB_TOKEN", json={"description": None})
    assert cleared.json["data"]["description"] is None

    deleted = auth.delete("/api/secrets/GITHUB_TOKEN")
    assert deleted.status_code == 200
    assert deleted.json["data"] == {"key": "GITHUB_TOKEN", "deleted": True}
    assert auth.get("/api/secrets/GITHUB_TOKEN").status_code == 404
    assert auth.delete("/api/secrets/GITHUB_TOKEN").status_code == 404

    for value in ("ghp_abc123", "ghp_new", "sk-ant-xyz"):
        assert value not in caplog.text


def test_value_stored_encrypted_with_fresh_iv(app, auth):
    create(auth)
    with app.app_context():
        row = db.session.scalar(sa.select(Secret))
        first_iv = row.iv
        assert "ghp_abc123" not in row.encrypted_value
        assert secrets.decrypt(row.encrypted_value, row.iv, AUTH_SECRET) == "ghp_abc123"
        db.session.remove()
    auth.put("/api/secrets/GITHUB_TOKEN", json={"value": "ghp_abc123"})
    with app.app_context():
        assert db.session.scalar(sa.select(Secret.iv)) != first_iv
        db.session.remove()


def insert_row(app, key, encrypted_value, iv):
    with app.app_context():
        db.session.add(Secret(id=uuid.uuid4(), key=key, encrypted_value=encrypted_value, iv=iv))
        db.session.commit()
        db.session.remove()


def test_reads_a_row_written_by_the_node_implementation(app, auth):
    insert_row(app, "NODE_TOKEN", NODE_ROW["encrypted_value"], NODE_ROW["iv"])
    got = auth.get("/api/secrets/NODE_TOKEN")
    assert got.status_code == 200
    assert got.json["data"]["value"] == NODE_ROW["plaintext"]
    with app.app_context():
        assert secrets.get_value("NODE_TOKEN") == NODE_ROW["plaintext"]
        assert secrets.get_value("MISSING") is None


@pytest.mark.parametrize(
    "encrypted_value, iv",
    [
        ("00" + NODE_ROW["encrypted_value"][2:], NODE_ROW["iv"]),
        (NODE_ROW["encrypted_value"], "00" * 16),
        ("not-hex", "nope"),
    ],
)
def test_undecryptable_is_409_with_exact_message(app, auth, encrypted_value, iv):
    insert_row(app, "BROKEN", encrypted_value, iv)
    response = auth.get("/api/secrets/BROKEN")
    assert response.status_code == 409
    assert response.json["message"] == (
        "secret cannot be decrypted with the current BETTER_AUTH_SECRET"
    )
    with app.app_context():
        assert secrets.get_value("BROKEN") is None


def test_duplicate_key_is_409(auth):
    assert create(auth).status_code == 201
    response = create(auth, value="other")
    assert response.status_code == 409
    assert "other" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"key": "github_token", "value": "x"}, "key"),
        ({"key": "1ABC", "value": "x"}, "key"),
        ({"key": "A-B", "value": "x"}, "key"),
        ({"key": "A" * 256, "value": "x"}, "key"),
        ({"key": "", "value": "x"}, "key"),
        ({"value": "x"}, "key"),
        ({"key": "OK", "value": ""}, "value"),
        ({"key": "OK"}, "value"),
        ({"key": "OK", "value": 5}, "value"),
        ({"key": "OK", "value": None}, "value"),
        ({"key": "OK", "value": "v" * 65537}, "value"),
        ({"key": "OK", "value": "é" * 32769}, "value"),
        ({"key": "OK", "value": "x", "description": "d" * 1001}, "description"),
        ({"key": "OK", "value": "x", "description": 3}, "description"),
    ],
)
def test_bad_input_is_400(auth, body, field):
    response = auth.post("/api/secrets", json=body)
    assert response.status_code == 400, response.json
    assert field in response.json["errors"]
    if isinstance(body.get("value"), str) and body["value"]:
        assert body["value"] not in response.get_data(as_text=True)


def test_value_of_exactly_64_kib_is_accepted(auth):
    response = create(auth, value="v" * 65_536)
    assert response.status_code == 201
    assert len(auth.get("/api/secrets/GITHUB_TOKEN").json["data"]["value"]) == 65_536
    # 3-byte characters, \u-escaped in the JSON (six bytes each on the wire)
    value = "€" * (65_536 // 3)
    response = auth.post("/api/secrets", json={"key": "EURO", "value": value})
    assert response.status_code == 201
    assert auth.get("/api/secrets/EURO").json["data"]["value"] == value


def test_a_1_mib_body_is_413(auth):
    body = json.dumps({"key": "BIG", "value": "x" * (1024 * 1024)})
    response = auth.post("/api/secrets", data=body, content_type="application/json")
    assert response.status_code == 413
    create(auth)
    response = auth.put("/api/secrets/GITHUB_TOKEN", data=body, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("key", ["lower", "A-B", "A" * 256, "9A"])
def test_malformed_path_key_is_400(auth, key):
    for response in (
        auth.get(f"/api/secrets/{key}"),
        auth.put(f"/api/secrets/{key}", json={"value": "x"}),
        auth.delete(f"/api/secrets/{key}"),
    ):
        assert response.status_code == 400
        assert "key" in response.json["errors"]


def test_update_rules(auth):
    assert auth.put("/api/secrets/NOPE", json={"value": "x"}).status_code == 404
    create(auth)
    response = auth.put("/api/secrets/GITHUB_TOKEN", json={})
    assert response.status_code == 400
    assert response.json["message"] == "No updatable fields provided"
    response = auth.put("/api/secrets/GITHUB_TOKEN", json={"value": None})
    assert response.status_code == 400 and "value" in response.json["errors"]
    response = auth.put("/api/secrets/GITHUB_TOKEN", json={"value": ""})
    assert response.status_code == 400


def test_events(app, auth):
    from cognova.services import notifications

    seen = []
    original = notifications.publish_now
    notifications.publish_now = seen.append
    try:
        create(auth)
        auth.put("/api/secrets/GITHUB_TOKEN", json={"value": "v2"})
        auth.delete("/api/secrets/GITHUB_TOKEN")
    finally:
        notifications.publish_now = original
    assert [(e["resource"], e["action"], e["resourceName"]) for e in seen] == [
        ("secret", "create", "GITHUB_TOKEN"),
        ("secret", "edit", "GITHUB_TOKEN"),
        ("secret", "delete", "GITHUB_TOKEN"),
    ]
    assert "v2" not in json.dumps(seen)


def test_requires_authentication(client, user):
    assert client.get("/api/secrets").status_code == 401
    assert client.get("/api/secrets/GITHUB_TOKEN").status_code == 401


def test_rotate_secret_key_command(app, auth, runner):
    create(auth)
    create(auth, key="SECOND", value="two")
    result = runner.invoke(args=["rotate-secret-key", "--new-secret", "a-brand-new-secret-value"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 secret(s)" in result.output
    assert "ghp_abc123" not in result.output
    with app.app_context():
        rows = {r.key: r for r in db.session.scalars(sa.select(Secret))}
        new = "a-brand-new-secret-value"
        assert secrets.decrypt(rows["SECOND"].encrypted_value, rows["SECOND"].iv, new) == "two"
        with pytest.raises(secrets.Undecryptable):
            secrets.decrypt(rows["SECOND"].encrypted_value, rows["SECOND"].iv, AUTH_SECRET)
        db.session.remove()
    # the running app still uses the old secret, so the rows now answer 409
    assert auth.get("/api/secrets/SECOND").status_code == 409


def test_rotation_is_all_or_nothing(app, auth, runner):
    create(auth)
    insert_row(app, "BROKEN", "00:00", "00" * 16)
    with app.app_context():
        before = {r.key: r.encrypted_value for r in db.session.scalars(sa.select(Secret))}
        db.session.remove()
    result = runner.invoke(args=["rotate-secret-key", "--new-secret", "another-new-secret-123"])
    assert result.exit_code != 0
    assert "BROKEN" in result.output and "nothing was changed" in result.output
    with app.app_context():
        after = {r.key: r.encrypted_value for r in db.session.scalars(sa.select(Secret))}
        db.session.remove()
    assert after == before
    assert auth.get("/api/secrets/GITHUB_TOKEN").json["data"]["value"] == "ghp_abc123"
