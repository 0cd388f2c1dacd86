"""Memory API (API.md §12): list and search, context, store, single memories, jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import MemoryChunk


def store(api, content, chunk_type="fact", **extra):
    response = api.post(
        "/api/memory/store", json={"content": content, "chunkType": chunk_type, **extra}
    )
    assert response.status_code in (200, 201), response.json
    return response.json["data"]


def set_row(app, memory_id, **values):
    with app.app_context():
        db.session.execute(
            sa.update(MemoryChunk).where(MemoryChunk.id == uuid.UUID(memory_id)).values(**values)
        )
        db.session.commit()


# ------------------------------------------------------------------ store


def test_store_creates_a_memory_with_every_key(api):
    response = api.post(
        "/api/memory/store",
        json={
            "content": "  Prefers pnpm over npm ",
            "chunkType": "preference",
            "sessionId": "s-1",
            "projectPath": "/home/ada/app",
            "sourceExcerpt": "we use pnpm",
        },
    )
    assert response.status_code == 201
    data = response.json["data"]
    assert set(data) == {
        "id",
        "sessionId",
        "projectPath",
        "chunkType",
        "content",
        "sourceExcerpt",
        "relevanceScore",
        "accessCount",
        "lastAccessedAt",
        "expiresAt",
        "createdAt",
    }
    assert data["content"] == "Prefers pnpm over npm"
    assert data["relevanceScore"] == pytest.approx(0.9)
    assert data["accessCount"] == 0
    assert data["lastAccessedAt"] is None and data["expiresAt"] is None
    assert data["createdAt"].endswith("Z")


def test_a_duplicate_returns_the_existing_row_with_200(api):
    first = store(api, "PostgreSQL for all persistent data", "decision", relevanceScore=0.5)
    again = api.post(
        "/api/memory/store",
        json={"content": "  postgresql   FOR all\tpersistent data ", "chunkType": "fact"},
    )
    assert again.status_code == 200
    assert again.json["data"] == first
    # another scope is another memory
    scoped = api.post(
        "/api/memory/store",
        json={
            "content": "PostgreSQL for all persistent data",
            "chunkType": "fact",
            "projectPath": "/p",
        },
    )
    assert scoped.status_code == 201


def test_an_expired_memory_is_not_a_duplicate(app, api):
    first = store(api, "Old fact")
    set_row(app, first["id"], expires_at=datetime.now(UTC) - timedelta(minutes=1))
    again = api.post("/api/memory/store", json={"content": "old fact", "chunkType": "fact"})
    assert again.status_code == 201
    assert again.json["data"]["id"] != first["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"chunkType": "fact"}, "content"),
        ({"content": "   ", "chunkType": "fact"}, "content"),
        ({"content": "x" * 2001, "chunkType": "fact"}, "content"),
        ({"content": "x", "chunkType": "opinion"}, "chunkType"),
        ({"content": "x", "chunkType": "fact", "relevanceScore": 1.5}, "relevanceScore"),
        ({"content": "x", "chunkType": "fact", "relevanceScore": -0.1}, "relevanceScore"),
        ({"content": "x", "chunkType": "fact", "relevanceScore": "0.5"}, "relevanceScore"),
        ({"content": "x", "chunkType": "fact", "relevanceScore": True}, "relevanceScore"),
        ({"content": "x", "chunkType": "fact", "sessionId": "s" * 256}, "sessionId"),
        ({"content": "x", "chunkType": "fact", "projectPath": "p" * 1001}, "projectPath"),
        ({"content": "x", "chunkType": "fact", "sourceExcerpt": "e" * 10_001}, "sourceExcerpt"),
        ({"content": "x", "chunkType": "fact", "expiresAt": "soon"}, "expiresAt"),
        ({"content": 5, "chunkType": "fact"}, "content"),
    ],
)
def test_store_rejects_bad_fields(api, body, field):
    response = api.post("/api/memory/store", json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]


def test_store_emits_one_create_event_and_a_duplicate_none(app, api):
    from cognova.services import notifications

    seen = []
    original = notifications.publish_now
    notifications.publish_now = seen.append
    try:
        store(api, "Uses ruff")
        store(api, "uses ruff")
    finally:
        notifications.publish_now = original
    assert [(e["resource"], e["action"]) for e in seen] == [("memory", "create")]


# ------------------------------------------------------------------ list and search


def test_list_is_newest_first_and_paginated(app, api):
    ids = [store(api, f"memory number {n}")["id"] for n in range(3)]
    for n, ident in enumerate(ids):
        set_row(app, ident, created_at=datetime(2026, 1, 1 + n, tzinfo=UTC))
    response = api.get("/api/memory?limit=2")
    assert response.status_code == 200
    assert [m["id"] for m in response.json["data"]] == [ids[2], ids[1]]
    assert response.json["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2}
    assert api.get("/api/memory?page=3&limit=2").json["data"] == []
    assert api.get("/api/memory?limit=1000").json["pagination"]["limit"] == 100
    # a plain list does not count access
    assert all(m["accessCount"] == 0 for m in api.get("/api/memory").json["data"])


def test_query_matches_substrings_ranks_by_relevance_and_counts_access(app, api):
    low = store(api, "Deploys with Docker compose", relevanceScore=0.3)
    high = store(api, "Docker images are built in CI", relevanceScore=0.8)
    excerpt = store(api, "Something else", sourceExcerpt="talked about DOCKER", relevanceScore=0.5)
    store(api, "Unrelated memory")
    response = api.get("/api/memory?query=docker")
    data = response.json["data"]
    assert [m["id"] for m in data] == [high["id"], excerpt["id"], low["id"]]
    assert all(m["accessCount"] == 1 and m["lastAccessedAt"] for m in data)
    # fragments match too
    assert [m["id"] for m in api.get("/api/memory?query=ocke").json["data"]] == [
        high["id"],
        excerpt["id"],
        low["id"],
    ]
    with app.app_context():
        counts = dict(
            db.session.execute(sa.select(MemoryChunk.content, MemoryChunk.access_count)).all()
        )
    assert counts["Docker images are built in CI"] == 2
    assert counts["Unrelated memory"] == 0


def test_search_finds_stemmed_words_and_puts_word_matches_first(api):
    fragment = store(api, "Notes on redeployment", relevanceScore=1.0)
    word = store(api, "Deployed to production on Fridays", relevanceScore=0.2)
    data = api.get("/api/memory/search?query=deploying").json["data"]
    assert [m["id"] for m in data] == [word["id"]]
    data = api.get("/api/memory/search?query=deploy").json["data"]
    assert [m["id"] for m in data] == [word["id"], fragment["id"]]


def test_search_always_counts_access_and_filters(app, api):
    a = store(api, "Alpha decision", "decision", projectPath="/a", relevanceScore=0.4)
    b = store(api, "Beta fact", "fact", projectPath="/a", relevanceScore=0.9)
    store(api, "Gamma fact", "fact", projectPath="/b")
    data = api.get("/api/memory/search?projectPath=/a").json["data"]
    assert {m["id"] for m in data} == {a["id"], b["id"]}
    assert all(m["accessCount"] == 1 for m in data)
    assert [m["id"] for m in api.get("/api/memory?chunkType=decision").json["data"]] == [a["id"]]
    both = api.get("/api/memory?chunkType=decision,fact&projectPath=/a").json["data"]
    assert len(both) == 2
    assert [
        m["id"] for m in api.get("/api/memory?minRelevance=0.5&projectPath=/a").json["data"]
    ] == [b["id"]]


def test_expired_memories_are_hidden_unless_asked_for(app, api):
    gone = store(api, "Expired thing")
    store(api, "Live thing")
    set_row(app, gone["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert [m["content"] for m in api.get("/api/memory").json["data"]] == ["Live thing"]
    assert len(api.get("/api/memory?includeExpired=true").json["data"]) == 2
    assert api.get("/api/memory/search?query=thing").json["pagination"]["total"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("chunkType=opinion", "chunkType"),
        ("minRelevance=2", "minRelevance"),
        ("minRelevance=abc", "minRelevance"),
        ("includeExpired=maybe", "includeExpired"),
        ("page=0", "page"),
        ("limit=0", "limit"),
    ],
)
def test_list_rejects_bad_query_parameters(api, query, field):
    response = api.get(f"/api/memory?{query}")
    assert response.status_code == 400
    assert field in response.json["errors"]


def test_search_pages_word_matches_then_fragments_with_one_total(app, api):
    """Word matches (by relevance, then newest) come before fragment-only matches, across
    pages; a row matching both ways is one row; only the returned page counts access."""
    tie_old = store(api, "Kafka topics per tenant", relevanceScore=0.5)
    tie_new = store(api, "Kafka consumer lag alert", relevanceScore=0.5)
    top = store(api, "Kafka retention is seven days", relevanceScore=0.9)
    also_fragment = store(api, "Kafka or kafkaesque", relevanceScore=0.1)
    fragment_high = store(api, "Notes about kafkaesque configs", relevanceScore=1.0)
    fragment_low = store(api, "kafkaconnect worker", relevanceScore=0.2)
    store(api, "Redis streams instead", relevanceScore=1.0)
    expected = [top, tie_new, tie_old, also_fragment, fragment_high, fragment_low]

    seen = []
    for page in (1, 2, 3):
        body = api.get(f"/api/memory/search?query=kafka&limit=2&page={page}").json
        assert body["pagination"]["total"] == 6
        seen += body["data"]
    assert [m["id"] for m in seen] == [m["id"] for m in expected]
    past = api.get("/api/memory/search?query=kafka&limit=2&page=4").json
    assert past["data"] == []
    assert past["pagination"]["total"] == 6

    with app.app_context():
        counts = dict(
            db.session.execute(sa.select(MemoryChunk.content, MemoryChunk.access_count)).all()
        )
    assert {counts[m["content"]] for m in expected} == {1}
    assert counts["Redis streams instead"] == 0
    first = api.get("/api/memory?query=kafka&limit=2").json["data"]
    assert [m["accessCount"] for m in first] == [2, 2]


def test_search_filters_apply_to_word_and_fragment_matches(app, api):
    word = store(api, "Helm chart for billing", "decision", projectPath="/a")
    fragment = store(api, "Helmsman notes", "fact", projectPath="/a", relevanceScore=0.3)
    store(api, "Helm upgrade flags", "fact", projectPath="/b")
    store(api, "Helmet of the team", "fact", projectPath="/b")
    gone = store(api, "Helm rollback steps", "fact", projectPath="/a")
    set_row(app, gone["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1))

    def ids(query):
        body = api.get(f"/api/memory/search?query=helm&{query}").json
        assert body["pagination"]["total"] == len(body["data"])
        return [m["id"] for m in body["data"]]

    assert ids("projectPath=/a") == [word["id"], fragment["id"]]
    assert ids("projectPath=/a&chunkType=fact") == [fragment["id"]]
    assert ids("projectPath=/a&minRelevance=0.5") == [word["id"]]
    assert ids("projectPath=/a&includeExpired=true") == [gone["id"], word["id"], fragment["id"]]


def test_memory_storage_keeps_search_indexes_free_of_access_count_churn(ctx):
    """Access counting updates rows on every search: the table keeps room on its pages so
    those updates add no index entries, and the GIN pending lists every search scans stay
    small."""
    with db.engine.connect() as conn:
        options = dict(
            conn.execute(
                sa.text(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN "
                    "('memory_chunks', 'ix_fts_memory_chunks', 'ix_trgm_memory_content', "
                    "'ix_trgm_memory_excerpt')"
                )
            ).all()
        )
    assert "fillfactor=90" in options.pop("memory_chunks")
    assert "ix_fts_memory_chunks" in options
    for name, values in options.items():
        assert "gin_pending_list_limit=256" in (values or []), name


def _pending_entries() -> int:
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
    except sa.exc.DBAPIError:
        pytest.skip("pgstattuple is not available")
    return db.session.scalar(
        sa.text(
            "SELECT sum((pgstatginindex(indexrelid)).pending_tuples) FROM pg_index "
            "JOIN pg_class c ON c.oid = indexrelid JOIN pg_am am ON am.oid = c.relam "
            "WHERE indrelid = 'memory_chunks'::regclass AND am.amname = 'gin'"
        )
    )


def test_decay_leaves_no_pending_search_index_entries(ctx):
    from cognova.services import memory

    now = datetime.now(UTC)
    for n in range(30):
        db.session.add(
            MemoryChunk(
                id=uuid.uuid4(),
                chunk_type="fact",
                content=f"Idle memory number {n} about terraform",
                relevance_score=0.5,
                access_count=0,
                created_at=now - timedelta(days=40),
            )
        )
    db.session.commit()
    assert _pending_entries() > 0
    assert memory.decay(now)["decayed"] == 30
    assert _pending_entries() == 0


def test_query_with_like_wildcards_is_literal(api):
    store(api, "Config key log_level")
    store(api, "Config key logXlevel")
    data = api.get("/api/memory?query=g_l").json["data"]
    assert [m["content"] for m in data] == ["Config key log_level"]


# ------------------------------------------------------------------ context


def test_context_formats_exactly_and_counts_access(app, api):
    store(api, "Production runs Ubuntu 24.04", "fact", relevanceScore=0.7)
    store(api, "PostgreSQL for all persistent data", "decision", relevanceScore=0.8)
    store(api, "Prefers pnpm over npm", "preference", relevanceScore=0.9)
    response = api.get("/api/memory/context")
    assert response.status_code == 200
    data = response.json["data"]
    assert data["formatted"] == (
        "3 memories loaded:\n\n"
        "### Preferences\n- Prefers pnpm over npm\n\n"
        "### Decisions\n- PostgreSQL for all persistent data\n\n"
        "### Key Facts\n- Production runs Ubuntu 24.04\n"
    )
    assert [m["relevanceScore"] for m in data["memories"]] == pytest.approx([0.9, 0.8, 0.7])
    assert all(m["accessCount"] == 1 for m in data["memories"])


def test_context_of_one_memory_and_of_none(api):
    assert api.get("/api/memory/context").json["data"] == {"memories": [], "formatted": ""}
    store(api, "Fixes flaky tests by pinning time", "solution")
    assert api.get("/api/memory/context").json["data"]["formatted"] == (
        "1 memory loaded:\n\n### Solutions\n- Fixes flaky tests by pinning time\n"
    )


def test_context_sections_keep_selection_order_and_all_headings(api):
    for n, kind in enumerate(["summary", "pattern", "solution", "fact", "decision", "preference"]):
        store(api, f"{kind} one", kind, relevanceScore=0.5 + n / 100)
    store(api, "fact two", "fact", relevanceScore=0.99)
    text = api.get("/api/memory/context?limit=20").json["data"]["formatted"]
    assert text.startswith("7 memories loaded:\n\n### Preferences\n")
    headings = [line for line in text.splitlines() if line.startswith("###")]
    assert headings == [
        "### Preferences",
        "### Decisions",
        "### Key Facts",
        "### Solutions",
        "### Patterns",
        "### Summaries",
    ]
    assert "### Key Facts\n- fact two\n- fact one\n" in text
    assert text.endswith("- summary one\n")


def test_context_scopes_to_project_plus_global_and_clamps_limit(app, api):
    store(api, "Global one", relevanceScore=0.5)
    store(api, "Project A one", projectPath="/a", relevanceScore=0.6)
    store(api, "Project B one", projectPath="/b", relevanceScore=0.7)
    expired = store(api, "Expired one", relevanceScore=1.0)
    set_row(app, expired["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    data = api.get("/api/memory/context?project=/a").json["data"]
    assert [m["content"] for m in data["memories"]] == ["Project A one", "Global one"]
    for n in range(25):
        store(api, f"filler {n}")
    assert len(api.get("/api/memory/context?limit=500").json["data"]["memories"]) == 20
    assert api.get("/api/memory/context?limit=0").status_code == 400


def test_context_text_for_system_prompts(app, api):
    from cognova.services import memory

    store(api, "Prefers tabs", "preference")
    with app.app_context():
        assert memory.context_text() == "1 memory loaded:\n\n### Preferences\n- Prefers tabs\n"
        assert memory.context_text(project="/nowhere", limit=5).startswith("1 memory loaded:")
    assert api.get("/api/memory").json["data"][0]["accessCount"] == 2


# ------------------------------------------------------------------ single memory


def test_get_patch_delete(app, api):
    row = store(api, "Original content", relevanceScore=0.5)
    got = api.get(f"/api/memory/{row['id']}")
    assert got.status_code == 200 and got.json["data"]["accessCount"] == 0
    patched = api.patch(
        f"/api/memory/{row['id']}",
        json={
            "content": " New content ",
            "chunkType": "decision",
            "relevanceScore": 1,
            "expiresAt": "2030-01-01",
        },
    )
    assert patched.status_code == 200
    data = patched.json["data"]
    assert (data["content"], data["chunkType"], data["relevanceScore"]) == (
        "New content",
        "decision",
        1.0,
    )
    assert data["expiresAt"] == "2030-01-01T00:00:00.000Z"
    cleared = api.patch(f"/api/memory/{row['id']}", json={"expiresAt": None})
    assert cleared.json["data"]["expiresAt"] is None
    deleted = api.delete(f"/api/memory/{row['id']}")
    assert deleted.status_code == 200
    assert deleted.json["data"] == {"id": row["id"], "deleted": True}
    assert api.get(f"/api/memory/{row['id']}").status_code == 404
    assert api.delete(f"/api/memory/{row['id']}").status_code == 404


def test_single_memory_errors(api):
    missing = str(uuid.uuid4())
    bad = api.get("/api/memory/not-a-uuid")
    assert bad.status_code == 400 and bad.json["errors"] == {"id": "must be a UUID"}
    assert api.get(f"/api/memory/{missing}").status_code == 404
    assert api.patch(f"/api/memory/{missing}", json={"content": "x"}).status_code == 404
    row = store(api, "Something")
    empty = api.patch(f"/api/memory/{row['id']}", json={})
    assert empty.status_code == 400 and empty.json["message"] == "No updatable fields provided"
    for body, field in [
        ({"content": None}, "content"),
        ({"content": ""}, "content"),
        ({"relevanceScore": 3}, "relevanceScore"),
        ({"chunkType": "nope"}, "chunkType"),
        ({"chunkType": None}, "chunkType"),
    ]:
        response = api.patch(f"/api/memory/{row['id']}", json=body)
        assert response.status_code == 400 and field in response.json["errors"], body


def test_literal_routes_are_not_ids(api):
    for path in ("/api/memory/search", "/api/memory/context"):
        assert api.get(path).status_code == 200


def test_patch_and_delete_emit_events(api):
    from cognova.services import notifications

    row = store(api, "Event memory")
    seen = []
    original = notifications.publish_now
    notifications.publish_now = seen.append
    try:
        api.patch(f"/api/memory/{row['id']}", json={"relevanceScore": 0.2})
        api.delete(f"/api/memory/{row['id']}")
    finally:
        notifications.publish_now = original
    assert [(e["action"], e["resourceId"]) for e in seen] == [
        ("edit", row["id"]),
        ("delete", row["id"]),
    ]


def test_access_through_a_signed_in_session(auth):
    response = auth.post(
        "/api/memory/store", json={"content": "From the browser", "chunkType": "fact"}
    )
    assert response.status_code == 201
