"""Search (API.md §18) and the full-text indexes behind it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cognova.extensions import db


@pytest.fixture
def vault(app):
    return app.config["VAULT_PATH"]


def note(api, vault, name, text):
    (vault / name).write_text(text)
    return api.post("/api/documents/by-path", json={"path": name}).json["data"]["document"]


def task(ctx_app, title, description=None, tags=(), deleted=False):
    from datetime import UTC, datetime

    from cognova.models.tasks import Task

    with ctx_app.app_context():
        row = Task(title=title, description=description, tags=list(tags))
        if deleted:
            row.deleted_at = datetime.now(UTC)
        db.session.add(row)
        db.session.commit()
        ident = str(row.id)
        db.session.remove()
        return ident


def search(api, **query):
    response = api.get("/api/search", query_string=query)
    assert response.status_code == 200, response.json
    return response.json["data"]


def test_search_documents_and_tasks(api, app, vault):
    doc = note(api, vault, "garden.md", "# Garden plan\n\nPlant tomatoes near the fence.")
    t = task(app, "Buy tomato seeds", "for the garden", ["shopping"])
    task(app, "Old tomato task", deleted=True)
    hits = search(api, q="tomatoes")
    assert {(h["type"], h["id"]) for h in hits} == {("document", doc["id"]), ("task", t)}
    by_type = {h["type"]: h for h in hits}
    assert by_type["document"]["url"] == "/documents?path=garden.md"
    assert by_type["task"]["url"] == f"/tasks?selected={t}"
    assert "<mark>tomatoes</mark>" in by_type["document"]["snippet"]
    assert set(by_type["task"]) == {"type", "id", "title", "snippet", "score", "url"}
    assert search(api, q="tomatoes", types="document")[0]["type"] == "document"
    assert [h["type"] for h in search(api, q="tomatoes", types=["task"])] == ["task"]
    assert search(api, q="shopping", types="task")[0]["id"] == t


def test_title_substring_outranks_body_only(api, vault):
    body_only = note(api, vault, "b.md", "# Something\n\nWe talked about zebras at length.")
    titled = note(api, vault, "t.md", "# Zebra crossing\n\nunrelated")
    hits = search(api, q="zebra")
    assert [h["id"] for h in hits] == [titled["id"], body_only["id"]]
    assert hits[0]["score"] > hits[1]["score"]
    # substring of a title that full-text search would not find
    assert search(api, q="ebra cross")[0]["id"] == titled["id"]


def test_snippets_are_escaped_and_short(api, vault):
    text = "# Safe\n\n" + "filler " * 60 + "<script>alert(1)</script> needle & more " + "x " * 200
    note(api, vault, "x.md", text)
    [hit] = search(api, q="needle")
    assert "<script>" not in hit["snippet"]
    assert "&lt;script&gt;" in hit["snippet"]
    assert "<mark>needle</mark>" in hit["snippet"]
    plain = hit["snippet"].replace("<mark>", "").replace("</mark>", "")
    import html

    assert len(html.unescape(plain)) <= 200


def test_path_and_deleted_documents(api, vault):
    (vault / "projects").mkdir()
    doc = note(api, vault, "projects/quarterly-report.md", "numbers")
    assert search(api, q="quarterly")[0]["url"] == "/documents?path=projects%2Fquarterly-report.md"
    api.delete(f"/api/documents/{doc['id']}")
    assert search(api, q="quarterly") == []


def test_limit_and_validation(api, vault):
    for n in range(5):
        note(api, vault, f"n{n}.md", f"# Note {n}\n\nshared word apple")
    assert len(search(api, q="apple", limit=3)) == 3
    assert api.get("/api/search").status_code == 400
    assert api.get("/api/search?q=%20%20").status_code == 400
    assert api.get("/api/search", query_string={"q": "x" * 501}).status_code == 400
    response = api.get("/api/search?q=apple&types=document,bogus")
    assert response.status_code == 400 and "types" in response.json["errors"]
    assert api.get("/api/search?q=apple&limit=0").status_code == 400
    assert len(search(api, q="apple", limit=999)) == 5


def test_operators_and_stopwords_do_not_fail(api, vault):
    note(api, vault, "a.md", "alpha beta")
    assert search(api, q='"alpha beta" -gamma or delta')
    assert search(api, q="the") == []
    assert search(api, q="100%_\\") == []
    assert search(api, q="'); DROP TABLE documents; --") == []


def test_requires_authentication(client):
    assert client.get("/api/search?q=x").status_code == 401


def test_indexes_exist_and_are_used(app, ctx):
    names = set(
        db.session.scalars(
            sa.text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_fts_%'")
        )
    )
    assert {"ix_fts_documents", "ix_fts_tasks"} <= names
    from cognova.services.search import DOC_TSV

    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        db.session.scalars(
            sa.text(
                f"EXPLAIN SELECT id FROM documents WHERE deleted_at IS NULL AND "
                f"{DOC_TSV} @@ websearch_to_tsquery('english'::regconfig, 'x')"
            )
        )
    )
    assert "ix_fts_documents" in plan
    db.session.rollback()
