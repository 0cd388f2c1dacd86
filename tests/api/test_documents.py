"""Documents (API.md §7): open, list, edit, share, delete and restore vault files."""

from __future__ import annotations

import hashlib
import threading
import uuid

import pytest

from tests.conftest import API_TOKEN


@pytest.fixture
def vault(app):
    return app.config["VAULT_PATH"]


def by_path(api, path):
    return api.post("/api/documents/by-path", json={"path": path})


def open_doc(api, vault, name, text):
    target = vault / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    response = by_path(api, name)
    assert response.status_code == 200, response.json
    return response.json["data"]


def sha(data: bytes | str) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


# ------------------------------------------------------------------ by-path and the object


def test_by_path_creates_the_row_and_returns_a_view(api, vault, user):
    text = (
        "---\ntitle: Meeting Notes\ntags: [meetings, api]\nshared: false\nextra: 1\n---\n"
        "# H\n\nBody\n"
    )
    (vault / "notes").mkdir()
    response = by_path(api, "/notes/meeting.md")
    assert response.status_code == 404
    (vault / "notes" / "meeting.md").write_text(text)
    response = by_path(api, "/notes/meeting.md")
    assert response.status_code == 200
    data = response.json["data"]
    doc = data["document"]
    assert set(doc) == {
        "id", "title", "path", "fileType", "kind", "mimeType", "contentHash", "tags", "projectId",
        "project", "shared", "shareType", "syncedAt", "modifiedAt", "deletedAt", "createdAt",
        "createdBy", "modifiedBy", "deletedBy",
    }  # fmt: skip
    assert doc["title"] == "Meeting Notes"
    assert doc["path"] == "notes/meeting.md"
    assert doc["fileType"] == "md" and doc["kind"] == "markdown"
    assert doc["mimeType"] == "text/markdown"
    assert doc["contentHash"] == sha(text)
    assert doc["tags"] == ["meetings", "api"]
    assert doc["createdBy"] == user.id
    assert data["metadata"] == {
        "title": "Meeting Notes",
        "tags": ["meetings", "api"],
        "shared": False,
        "extra": 1,
    }
    assert data["body"] == "# H\n\nBody\n"
    assert data["frontmatterError"] is None
    assert response.headers["ETag"] == f'"{sha(text)}"'
    again = by_path(api, "notes/meeting.md").json["data"]["document"]
    assert again["id"] == doc["id"]


@pytest.mark.parametrize(
    ("name", "text", "title"),
    [
        ("a.md", "---\ntitle: '  '\n---\n# From heading\n", "From heading"),
        ("b.md", "```\n# not a heading\n```\n\n# Real heading #\n", "Real heading"),
        ("c.md", "no heading here\n## level two\n", "c"),
        ("some file.markdown", "", "some file"),
        ("d.txt", "# not markdown", "d"),
    ],
)
def test_titles(api, vault, name, text, title):
    assert open_doc(api, vault, name, text)["document"]["title"] == title


def test_by_path_errors(api, vault):
    (vault / "dir").mkdir()
    (vault / ".hidden.md").write_text("x")
    assert by_path(api, "dir").status_code == 400
    assert by_path(api, "/").status_code == 400
    assert by_path(api, ".hidden.md").status_code == 400
    assert by_path(api, "missing.md").status_code == 404
    assert api.post("/api/documents/by-path", json={}).status_code == 400


def test_invalid_yaml_frontmatter_still_opens(api, vault):
    text = "---\ntitle: [unclosed\ntags: x\n---\n# Heading\n"
    data = open_doc(api, vault, "bad.md", text)
    assert data["metadata"] == {}
    assert data["body"] == text
    assert data["frontmatterError"].startswith("Invalid YAML frontmatter")
    assert data["document"]["title"] == "Heading"
    assert data["document"]["tags"] == []


def test_frontmatter_that_is_not_a_mapping(api, vault):
    data = open_doc(api, vault, "list.md", "---\n- a\n- b\n---\nbody")
    assert data["metadata"] == {} and data["frontmatterError"]


def test_frontmatter_values_are_normalised(api, vault):
    project = "not-a-uuid"
    text = (
        f"---\ntags: 'a, b, a, {'x' * 51}'\nshared: true\nshareType: public\n"
        f"project: {project}\ndate: 2024-01-02\n---\nx"
    )
    data = open_doc(api, vault, "n.md", text)
    doc = data["document"]
    assert doc["tags"] == ["a", "b"]
    assert doc["shared"] is True and doc["shareType"] == "public"
    assert doc["projectId"] is None
    assert data["metadata"]["date"] == "2024-01-02"


def test_non_utf8_markdown_is_decoded_with_replacement(api, vault):
    data = open_doc(api, vault, "latin.md", b"# Caf\xe9\n")
    assert data["document"]["kind"] == "markdown"
    assert data["body"] == "# Caf\ufffd\n"
    assert data["document"]["contentHash"] == sha(b"# Caf\xe9\n")


def test_non_utf8_text_is_binary(api, vault):
    data = open_doc(api, vault, "latin.txt", b"caf\xe9")
    assert data["document"]["kind"] == "binary"
    assert data["document"]["mimeType"] == "text/plain"
    assert data["metadata"] == {"title": "latin"} and data["body"] == ""
    blob = open_doc(api, vault, "blob", b"\x00\x01")
    assert blob["document"]["fileType"] == "" and blob["document"]["kind"] == "binary"
    assert blob["document"]["mimeType"] == "application/octet-stream"


def test_text_view(api, vault):
    data = open_doc(api, vault, "notes.txt", "plain text")
    assert data["document"]["kind"] == "text"
    assert data["metadata"] == {"title": "notes", "tags": []}
    assert data["body"] == "plain text"


def test_huge_file_is_413(api, vault, app):
    app.config["MAX_FILE_BYTES"] = 100
    try:
        (vault / "huge.md").write_text("x" * 101)
        assert by_path(api, "huge.md").status_code == 413
    finally:
        app.config["MAX_FILE_BYTES"] = 10 * 1024 * 1024


def test_names_with_spaces_and_unicode(api, vault):
    data = open_doc(api, vault, "dossier élève/naïve 日本語 note.md", "x")
    assert data["document"]["path"] == "dossier élève/naïve 日本語 note.md"
    got = api.get(f"/api/documents/{data['document']['id']}")
    assert got.json["data"]["document"]["title"] == "naïve 日本語 note"


# ------------------------------------------------------------------ get


def test_get_rereads_the_file(api, vault):
    doc = open_doc(api, vault, "a.md", "# One")["document"]
    (vault / "a.md").write_text("# Two")
    data = api.get(f"/api/documents/{doc['id']}").json["data"]
    assert data["document"]["title"] == "Two"
    assert data["document"]["contentHash"] == sha("# Two")


def test_get_missing_file_soft_deletes(api, vault):
    doc = open_doc(api, vault, "a.md", "# One")["document"]
    (vault / "a.md").unlink()
    assert api.get(f"/api/documents/{doc['id']}").status_code == 404
    deleted = api.get(f"/api/documents/{doc['id']}?includeDeleted=true")
    assert deleted.status_code == 200
    assert deleted.json["data"]["document"]["deletedAt"] is not None
    assert deleted.json["data"]["body"] == "# One"


def test_get_errors(api):
    assert api.get("/api/documents/nope").status_code == 400
    assert api.get(f"/api/documents/{uuid.uuid4()}").status_code == 404


# ------------------------------------------------------------------ put


def test_put_markdown_rewrites_frontmatter_in_order(api, vault, app):
    text = "---\nzeta: keep\ntitle: Old\ncustom: [1, 2]\n---\nOld body\n"
    doc = open_doc(api, vault, "n.md", text)["document"]
    response = api.put(
        f"/api/documents/{doc['id']}",
        json={"title": " New title ", "tags": ["a", " b ", "a"], "body": "New body\n"},
    )
    assert response.status_code == 200, response.json
    written = (vault / "n.md").read_text()
    assert written == (
        "---\ntitle: New title\ntags:\n- a\n- b\nshared: false\nzeta: keep\ncustom:\n- 1\n- 2\n"
        "---\nNew body\n"
    )
    data = response.json["data"]
    assert data["document"]["title"] == "New title"
    assert data["document"]["contentHash"] == sha(written)
    assert response.headers["ETag"] == f'"{sha(written)}"'
    assert data["body"] == "New body\n"
    assert data["document"]["modifiedBy"] is not None


def test_put_keeps_body_when_absent(api, vault):
    doc = open_doc(api, vault, "n.md", "# Body stays\n")["document"]
    api.put(f"/api/documents/{doc['id']}", json={"tags": ["t"]})
    assert (vault / "n.md").read_text().endswith("---\n# Body stays\n")


def test_put_text_changes_row_only_for_metadata(api, vault):
    doc = open_doc(api, vault, "t.txt", "hello")["document"]
    data = api.put(f"/api/documents/{doc['id']}", json={"title": "Greeting", "tags": ["x"]})
    assert data.json["data"]["document"]["title"] == "Greeting"
    assert (vault / "t.txt").read_text() == "hello"
    api.put(f"/api/documents/{doc['id']}", json={"body": "bye"})
    assert (vault / "t.txt").read_text() == "bye"
    again = api.get(f"/api/documents/{doc['id']}").json["data"]
    assert again["document"]["title"] == "Greeting" and again["document"]["tags"] == ["x"]


def test_put_binary_is_refused(api, vault):
    doc = open_doc(api, vault, "b.png", b"\x89PNG\x00")["document"]
    for body in ({"title": "x"}, {}, {"body": "x"}):
        response = api.put(f"/api/documents/{doc['id']}", json=body)
        assert response.status_code == 400
        assert response.json["message"] == "Binary documents cannot be edited"


def test_put_validation(api, vault):
    doc = open_doc(api, vault, "n.md", "x")["document"]
    url = f"/api/documents/{doc['id']}"
    assert api.put(url, json={}).json["message"] == "No updatable fields provided"
    assert api.put(url, json={"expectedHash": doc["contentHash"]}).status_code == 400
    assert api.put(url, json={"title": ""}).status_code == 400
    assert api.put(url, json={"title": None}).status_code == 400
    assert api.put(url, json={"tags": ["ok", ""]}).json["errors"] == {"tags.1": "must not be empty"}
    assert api.put(url, json={"shareType": "everyone"}).status_code == 400
    response = api.put(url, json={"projectId": str(uuid.uuid4())})
    assert response.status_code == 400 and "projectId" in response.json["errors"]
    response = api.put(url, json={"shared": False, "shareType": "public"})
    assert response.status_code == 400
    assert api.put(f"/api/documents/{uuid.uuid4()}", json={"title": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("before", "body", "shared", "share_type"),
    [
        ((False, None), {"shareType": "public"}, True, "public"),
        ((True, "public"), {"shareType": None}, False, None),
        ((False, None), {"shared": True}, True, "private"),
        ((True, "public"), {"shared": True}, True, "public"),
        ((True, "private"), {"shared": False}, False, None),
        ((False, None), {"shared": True, "shareType": "public"}, True, "public"),
    ],
)
def test_sharing_rules(api, vault, before, body, shared, share_type):
    doc = open_doc(api, vault, "s.md", "x")["document"]
    url = f"/api/documents/{doc['id']}"
    api.put(url, json={"shared": before[0], "shareType": before[1]})
    data = api.put(url, json=body).json["data"]["document"]
    assert (data["shared"], data["shareType"]) == (shared, share_type)
    written = (vault / "s.md").read_text()
    assert f"shared: {'true' if shared else 'false'}" in written
    assert ("shareType" in written) == (share_type is not None)


def test_put_with_project_writes_it_to_frontmatter(api, vault, ctx):
    from cognova.extensions import db
    from cognova.models.tasks import Project

    project = Project(name="Vault", color="#3b82f6")
    db.session.add(project)
    db.session.commit()
    doc = open_doc(api, vault, "p.md", "x")["document"]
    data = api.put(f"/api/documents/{doc['id']}", json={"projectId": str(project.id)}).json
    assert data["data"]["document"]["project"] == {
        "id": str(project.id),
        "name": "Vault",
        "color": "#3b82f6",
    }
    assert f"project: {project.id}" in (vault / "p.md").read_text()
    listed = api.get(f"/api/documents?projectId={project.id}").json["data"]
    assert [d["id"] for d in listed] == [doc["id"]]


@pytest.mark.parametrize("how", ["header", "quoted-header", "body"])
def test_stale_hash_is_409_and_nothing_is_written(api, vault, how):
    doc = open_doc(api, vault, "c.md", "original")["document"]
    (vault / "c.md").write_text("changed elsewhere")
    stale = doc["contentHash"]
    headers, body = {}, {"body": "mine"}
    if how == "header":
        headers["If-Match"] = stale
    elif how == "quoted-header":
        headers["If-Match"] = f'"{stale}"'
    else:
        body["expectedHash"] = stale
    response = api.put(f"/api/documents/{doc['id']}", json=body, headers=headers)
    assert response.status_code == 409
    assert response.json["message"] == "Document changed on disk"
    assert (vault / "c.md").read_text() == "changed elsewhere"
    fresh = sha("changed elsewhere")
    ok = api.put(f"/api/documents/{doc['id']}", json={"body": "mine", "expectedHash": fresh})
    assert ok.status_code == 200


def test_two_writers_one_wins_one_conflicts(app, api, vault):
    doc = open_doc(api, vault, "race.md", "start")["document"]
    results: list[int] = []
    barrier = threading.Barrier(4)

    def writer(n):
        client = app.test_client()
        barrier.wait()
        response = client.put(
            f"/api/documents/{doc['id']}",
            json={"body": f"writer {n}\n", "expectedHash": doc["contentHash"]},
            headers={"X-API-Token": API_TOKEN},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]
    body = api.get(f"/api/documents/{doc['id']}").json["data"]["body"]
    assert body.startswith("writer ")
    assert (vault / "race.md").read_text().endswith(body)


def test_put_when_file_is_gone(api, vault):
    doc = open_doc(api, vault, "gone.md", "x")["document"]
    (vault / "gone.md").unlink()
    assert api.put(f"/api/documents/{doc['id']}", json={"title": "y"}).status_code == 404
    row = api.get(f"/api/documents/{doc['id']}?includeDeleted=true").json["data"]["document"]
    assert row["deletedAt"] is not None


# ------------------------------------------------------------------ delete / restore


def test_delete_and_restore(api, vault):
    doc = open_doc(api, vault, "dir/r.md", "# Keep me\n")["document"]
    response = api.delete(f"/api/documents/{doc['id']}")
    assert response.status_code == 200
    assert response.json["data"]["deletedAt"] is not None
    assert not (vault / "dir" / "r.md").exists()
    assert api.delete(f"/api/documents/{doc['id']}").status_code == 404
    (vault / "dir").rmdir()
    restored = api.post(f"/api/documents/{doc['id']}/restore")
    assert restored.status_code == 200
    assert restored.json["data"]["deletedAt"] is None
    assert (vault / "dir" / "r.md").read_text() == "# Keep me\n"
    again = api.post(f"/api/documents/{doc['id']}/restore")
    assert again.status_code == 400 and again.json["message"] == "Not deleted"


def test_restore_conflicts_and_binary(api, vault):
    doc = open_doc(api, vault, "r.md", "x")["document"]
    api.delete(f"/api/documents/{doc['id']}")
    (vault / "r.md").write_text("someone else")
    assert api.post(f"/api/documents/{doc['id']}/restore").status_code == 409
    binary = open_doc(api, vault, "b.bin", b"\x00")["document"]
    api.delete(f"/api/documents/{binary['id']}")
    response = api.post(f"/api/documents/{binary['id']}/restore")
    assert response.status_code == 400
    assert response.json["message"] == "Binary documents cannot be restored"
    assert api.post(f"/api/documents/{uuid.uuid4()}/restore").status_code == 404


# ------------------------------------------------------------------ list


def test_list_filters_and_order(api, vault):
    open_doc(api, vault, "a.md", "---\ntags: [x, y]\nshared: true\n---\nalpha words")
    open_doc(api, vault, "b.txt", "beta words")
    open_doc(api, vault, "c.png", b"\x89PNG\x00")
    open_doc(api, vault, "d.MD", "---\ntags: [x]\n---\ngamma")

    def paths(**q):
        response = api.get("/api/documents", query_string=q)
        assert response.status_code == 200, response.json
        return [d["path"] for d in response.json["data"]]

    assert paths() == ["d.MD", "c.png", "b.txt", "a.md"]
    assert paths(fileType="MD") == ["d.MD", "a.md"]
    assert paths(fileType="binary") == ["c.png"]
    assert paths(kind="text") == ["b.txt"]
    assert paths(kind="markdown") == ["d.MD", "a.md"]
    assert paths(tag="x") == ["d.MD", "a.md"]
    assert paths(tag=["x", "y"]) == ["a.md"]
    assert paths(shared="true") == ["a.md"]
    assert paths(search="WORDS") == ["b.txt", "a.md"]
    assert paths(search="c.pn") == ["c.png"]
    assert paths(search="gam") == ["d.MD"]
    response = api.get("/api/documents?limit=2&page=2")
    assert response.json["pagination"] == {"page": 2, "limit": 2, "total": 4, "totalPages": 2}
    assert "content" not in response.json["data"][0]
    assert api.get("/api/documents?kind=other").status_code == 400
    assert api.get("/api/documents?limit=9999").json["pagination"]["limit"] == 500


def test_list_excludes_deleted_unless_asked(api, vault):
    doc = open_doc(api, vault, "a.md", "x")["document"]
    api.delete(f"/api/documents/{doc['id']}")
    assert api.get("/api/documents").json["data"] == []
    assert len(api.get("/api/documents?includeDeleted=true").json["data"]) == 1


def test_search_stems_and_substrings(api, vault):
    open_doc(api, vault, "run.md", "The runners were running fast")
    assert [d["path"] for d in api.get("/api/documents?search=run").json["data"]] == ["run.md"]
    assert [d["path"] for d in api.get("/api/documents?search=runs").json["data"]] == ["run.md"]
    assert api.get("/api/documents?search=100%25").json["data"] == []


def test_search_pagination_counts_every_match_on_every_page(api, vault):
    for n in range(5):
        open_doc(api, vault, f"hit{n}.txt", f"needle {n}")
    open_doc(api, vault, "miss.txt", "nothing")

    def page(n, q="needle"):
        response = api.get("/api/documents", query_string={"search": q, "limit": 2, "page": n})
        assert response.status_code == 200, response.json
        return len(response.json["data"]), response.json["pagination"]

    assert page(1) == (2, {"page": 1, "limit": 2, "total": 5, "totalPages": 3})
    assert page(3) == (1, {"page": 3, "limit": 2, "total": 5, "totalPages": 3})
    assert page(4) == (0, {"page": 4, "limit": 2, "total": 5, "totalPages": 3})
    assert page(1, "absent") == (0, {"page": 1, "limit": 2, "total": 0, "totalPages": 0})
    assert page(2, "absent") == (0, {"page": 2, "limit": 2, "total": 0, "totalPages": 0})


def test_search_content_is_a_literal_case_insensitive_substring(api, vault):
    open_doc(api, vault, "price.txt", "Price (USD) is $5.00 [approx], a+b^2 \\d ÉTÉ")
    open_doc(api, vault, "other.txt", "axb 5x00 aab")

    def found(q):
        response = api.get("/api/documents", query_string={"search": q})
        assert response.status_code == 200, response.json
        return [d["path"] for d in response.json["data"]]

    for q in ("(usd)", "$5.00", "[APPROX]", "a+B^2", "\\D", "été", "IS $5"):
        assert found(q) == ["price.txt"], q
    for q in ("5.00x", "a.b", "[ax]b", "(u|x)sd", "a+b^2 \\\\dx"):
        assert found(q) == [], q


# ------------------------------------------------------------------ public


def test_public_view(api, client, vault, user):
    doc = open_doc(api, vault, "p.md", "---\ntitle: Shared\n---\n# Shared\nhello")["document"]
    url = f"/api/documents/{doc['id']}/public"
    response = client.get(url)
    assert response.status_code == 403
    assert response.json["message"] == "Document is not shared"
    api.put(f"/api/documents/{doc['id']}", json={"shared": True})
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex"
    data = response.json["data"]
    assert data["content"] == "# Shared\nhello"
    assert data["isOwner"] is False
    assert data["document"]["creatorName"] == "Ada Lovelace"
    assert data["document"]["shareType"] == "private"
    assert set(data["document"]) == {
        "id", "title", "path", "fileType", "kind", "mimeType", "shared", "shareType", "tags",
        "createdAt", "modifiedAt", "creatorName",
    }  # fmt: skip
    api.put(f"/api/documents/{doc['id']}", json={"shareType": "public"})
    response = client.get(url)
    assert "X-Robots-Tag" not in response.headers
    assert api.get(url).json["data"]["isOwner"] is True
    wrong = client.get(url, headers={"X-API-Token": "wrong"})
    assert wrong.status_code == 200 and wrong.json["data"]["isOwner"] is False
    (vault / "p.md").unlink()
    assert client.get(url).status_code == 404
    assert client.get("/api/documents/bad/public").status_code == 400
    assert client.get(f"/api/documents/{uuid.uuid4()}/public").status_code == 404


def test_public_text_and_binary_content(api, client, vault):
    text = open_doc(api, vault, "t.txt", "raw text")["document"]
    api.put(f"/api/documents/{text['id']}", json={"shared": True})
    assert client.get(f"/api/documents/{text['id']}/public").json["data"]["content"] == "raw text"


# ------------------------------------------------------------------ events


def test_document_events(api, vault, app):
    import json

    import redis

    from cognova.services.notifications import channel

    with app.app_context():
        name = channel()
    pubsub = redis.Redis.from_url(app.config["REDIS_URL"]).pubsub()
    pubsub.subscribe(name)
    pubsub.get_message(timeout=1)
    doc = open_doc(api, vault, "e.md", "x")["document"]
    api.put(f"/api/documents/{doc['id']}", json={"title": "Evented"})
    api.delete(f"/api/documents/{doc['id']}")
    api.post(f"/api/documents/{doc['id']}/restore")
    actions = []
    for _ in range(8):
        message = pubsub.get_message(timeout=1)
        if message and message["type"] == "message":
            event = json.loads(message["data"])
            assert event["resource"] == "document" and event["resourceId"] == doc["id"]
            actions.append(event["action"])
    assert actions == ["create", "edit", "delete", "restore"]


# ------------------------------------------------------------------ the /view page


def share(api, vault, name, text, share_type="public"):
    doc = open_doc(api, vault, name, text)["document"]
    api.put(f"/api/documents/{doc['id']}", json={"shared": True, "shareType": share_type})
    return doc


def test_view_page_renders_sanitized_markdown(api, client, vault):
    text = (
        "# Title\n\n## First\n\n<script>alert(1)</script>\n\n"
        "[bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
        "![pic](javascript:alert(2))\n\n## Second\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    doc = share(api, vault, "v.md", text)
    response = client.get(f"/view/{doc['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    body = html.split('class="markdown view-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body and "onerror=" not in body.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript' not in body and 'src="javascript' not in body
    assert "&lt;script&gt;" in body
    assert '<h2 id="first">First</h2>' in body and "<table>" in body
    assert 'href="#second"' in html  # table of contents
    assert 'name="robots"' not in html and "X-Robots-Tag" not in response.headers
    assert f'href="/view/{doc["id"]}/raw?download=1"' in html
    assert 'data-view="edit"' not in html


def test_view_page_private_noindex_owner_and_errors(api, auth, client, vault):
    doc = share(api, vault, "p.md", "# P\n\ntext", "private")
    response = client.get(f"/view/{doc['id']}")
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in response.get_data(as_text=True)
    owner = auth.get(f"/view/{doc['id']}").get_data(as_text=True)
    assert 'data-view="edit"' in owner and "/documents?path=p.md" in owner
    hidden = open_doc(api, vault, "h.md", "x")["document"]
    assert client.get(f"/view/{hidden['id']}").status_code == 403
    assert client.get("/view/not-a-uuid").status_code == 404
    assert client.get(f"/view/{uuid.uuid4()}").status_code == 404


def test_view_raw_and_download(api, client, vault):
    doc = share(api, vault, "r.md", "---\ntitle: R\n---\n<b>raw</b>")
    raw = client.get(f"/view/{doc['id']}/raw")
    assert raw.status_code == 200
    assert raw.headers["Content-Type"].startswith("text/plain")
    assert raw.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert raw.get_data(as_text=True).startswith("---")
    download = client.get(f"/view/{doc['id']}/raw?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    hidden = open_doc(api, vault, "h.md", "x")["document"]
    assert client.get(f"/view/{hidden['id']}/raw").status_code == 403
