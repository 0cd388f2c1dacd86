"""The task list's search keys (migration 0009_task_search_keys): a list filtered by status,
tag and search term together reads its candidates through ``ix_keys_tasks_search`` and must
return exactly what the plain filters return."""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

import sqlalchemy as sa

from cognova.extensions import db
from cognova.schemas.tasks import TaskQuery
from cognova.services import tasks

STATUSES = ("todo", "in_progress", "done", "blocked")
TAGS = ("work", "home", "a|b", "two words", "Élan")
WORDS = (
    "Report", "alpha", "ALPHAbet", "exlark", "café", "Über", "naïve", "x-ray", "e-mail",
    "100%", "snake_case", "v2.0", "Σίσυφος", "ok", "a", "pha", "Haus", "straße",
)  # fmt: skip
TERMS = (
    "alpha", "ALPHA", "pha", "lph", "ha ex", "x-ray", "ray", "e-m", "café", "CAFÉ", "über",
    "ïve", "10", "0%", "%", "_", "e_c", "v2.", "ok", "a", "Haus ", "ße", "σίσ", "Report alpha",
    "zzz", "",
)  # fmt: skip


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 5)))


def _seed(app, rng: random.Random, count: int = 120) -> list[dict]:
    """*count* tasks straight into the table (some deleted); returns them as plain dicts."""
    made = []
    with app.app_context():
        user_id = db.session.execute(sa.text('SELECT id FROM "user" LIMIT 1')).scalar()
        for n in range(count):
            task = {
                "title": f"{_sentence(rng)} #{n}",
                "description": _sentence(rng) if rng.random() < 0.5 else None,
                "status": rng.choice(STATUSES),
                "tags": rng.sample(TAGS, rng.randrange(0, 3)),
                "deleted": rng.random() < 0.1,
            }
            db.session.execute(
                sa.text(
                    "INSERT INTO tasks (title, description, status, tags, created_by, deleted_at)"
                    " VALUES (:title, :description, :status, :tags, :user,"
                    " CASE WHEN :deleted THEN now() END)"
                ),
                {**task, "user": user_id},
            )
            made.append(task)
        db.session.commit()
    return made


def _expected(made: list[dict], statuses, tags, term) -> list[str]:
    needle = term.lower()
    return sorted(
        t["title"]
        for t in made
        if not t["deleted"]
        and t["status"] in statuses
        and all(tag in t["tags"] for tag in tags)
        and (needle in t["title"].lower() or needle in (t["description"] or "").lower())
    )


def test_keyed_lists_return_exactly_the_filtered_tasks(app, api):
    rng = random.Random(9)
    made = _seed(app, rng)
    checked = 0
    for term in TERMS:
        for _ in range(3):
            statuses = rng.sample(STATUSES, rng.randrange(1, 4))
            tags = rng.sample(TAGS, rng.randrange(1, 3))
            query = [("status", s) for s in statuses] + [("tag", t) for t in tags]
            query += [("search", term), ("limit", "200")]
            response = api.get("/api/tasks?" + urlencode(query))
            assert response.status_code == 200, response.json
            found = sorted(t["title"] for t in response.json["data"])
            expected = _expected(made, statuses, tags, term)
            assert found == expected, (statuses, tags, term)
            assert response.json["pagination"]["total"] == len(expected)
            checked += bool(expected)
    assert checked > 20  # the terms and tags do find tasks, not only empty lists

    # pages of a keyed list, and a page past its end (counted separately)
    expected = _expected(made, ["todo"], ["work"], "a")
    assert len(expected) > 3
    base = "/api/tasks?status=todo&tag=work&search=a&limit=2"
    first = api.get(base + "&page=1").json
    assert len(first["data"]) == 2 and first["pagination"]["total"] == len(expected)
    beyond = api.get(base + "&page=500").json
    assert beyond["data"] == [] and beyond["pagination"]["total"] == len(expected)


def test_claude_tools_read_the_same_keyed_lists(app, api):
    made = _seed(app, random.Random(4))
    with app.app_context():
        for term in ("alpha", "x-ray", "é"):
            params = TaskQuery.model_validate(
                {"status": ["todo", "done"], "tag": ["work"], "search": term, "limit": "200"}
            )
            page = tasks.list_tasks(params)
            assert sorted(t.title for t in page.items) == _expected(
                made, ("todo", "done"), ("work",), term
            )


def test_only_status_tag_and_search_together_read_the_keys(app):
    cases = {
        (("status", "todo"), ("tag", "work"), ("search", "alpha")): True,
        (("status", "todo"), ("status", "done"), ("tag", "work"), ("search", "a")): True,
        (("tag", "work"), ("search", "alpha")): False,
        (("status", "todo"), ("search", "alpha")): False,
        (("status", "todo"), ("tag", "work")): False,
        (("status", "todo"), ("tag", "w"), ("search", "al"), ("includeDeleted", "true")): False,
    }
    with app.app_context():
        for query, keyed in cases.items():
            raw: dict = {}
            for key, value in query:
                if key in ("status", "tag"):
                    raw.setdefault(key, []).append(value)
                else:
                    raw[key] = value
            sql, _ = tasks.page_json_sql(TaskQuery.model_validate(raw), db.engine.dialect)
            assert ("cognova_task_candidates" in sql) is keyed, query


def test_a_task_holds_the_keys_of_every_term_it_contains(app):
    """For random texts and random substrings of them (case changed at random), the keys of
    the text contain the keys asked for the substring: the index never loses a match."""
    rng = random.Random(21)
    alphabet = "abcXYZ019 éÉüÜßσΣ-_%|.,"
    pairs = []
    for _ in range(600):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
        start = rng.randrange(len(text))
        term = text[start : start + rng.randrange(1, 12)]
        term = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in term)
        title, description = (text, None) if rng.random() < 0.5 else ("x", text)
        pairs.append({"title": title, "description": description, "term": term})
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT p.term, p.title, p.description,"
                " cognova_task_keys('todo', ARRAY['t'], p.title, p.description)"
                " @> cognova_task_query_keys('todo', ARRAY['t'], p.term) AS held,"
                " (p.title ILIKE '%' || p.term || '%' OR p.description ILIKE '%' || p.term || '%')"
                " AS matches"
                " FROM json_to_recordset(CAST(:pairs AS json))"
                " AS p(title text, description text, term text)"
            ),
            {"pairs": json.dumps(pairs)},
        ).all()
    # terms holding % or _ are LIKE wildcards here; only literal matches are the claim
    literal = [r for r in rows if r.matches and "%" not in r.term and "_" not in r.term]
    assert len(literal) > 350
    assert sum(len(r.term) >= 3 for r in literal) > 200
    assert [r for r in literal if not r.held] == []


def test_keys_follow_edits_and_deletes(app, api):
    made = api.post(
        "/api/tasks", json={"title": "Quarterly report", "status": "todo", "tags": ["work"]}
    ).json["data"]
    query = "?status=todo&tag=work&search=quarter"
    assert [t["id"] for t in api.get("/api/tasks" + query).json["data"]] == [made["id"]]
    api.put(f"/api/tasks/{made['id']}", json={"title": "Yearly report"})
    assert api.get("/api/tasks" + query).json["data"] == []
    assert len(api.get("/api/tasks?status=todo&tag=work&search=yearly").json["data"]) == 1
    api.put(f"/api/tasks/{made['id']}", json={"tags": ["home"]})
    assert api.get("/api/tasks?status=todo&tag=work&search=yearly").json["data"] == []
    api.put(f"/api/tasks/{made['id']}", json={"status": "done", "tags": ["work"]})
    assert api.get("/api/tasks?status=todo&tag=work&search=yearly").json["data"] == []
    assert len(api.get("/api/tasks?status=done&tag=work&search=yearly").json["data"]) == 1
    api.delete(f"/api/tasks/{made['id']}")
    assert api.get("/api/tasks?status=done&tag=work&search=yearly").json["data"] == []
    api.post(f"/api/tasks/{made['id']}/restore")
    assert len(api.get("/api/tasks?status=done&tag=work&search=yearly").json["data"]) == 1


def test_long_texts_and_long_terms_still_find_their_tasks(app, api):
    """Tasks past the key bounds (long text, a long unbroken run, many keys) are indexed by
    their tags alone and always checked; a long term asks for a few keys only."""
    rng = random.Random(5)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(3, 9)))
        for _ in range(3000)
    ]
    long_text = " ".join(rng.choice(words) for _ in range(900))  # past MAX_TEXT
    many_keys = " ".join(words[:400])  # under MAX_TEXT, but too many (tag, trigram) pairs
    blob = "Q" * 70 + " needle"  # a run longer than MAX_RUN
    bodies = {
        "long": {"description": long_text + " needle"},
        "many": {"description": many_keys + " needle", "tags": ["work", "home", "x"]},
        "blob": {"description": blob},
        "short": {"description": "a needle in a haystack"},
    }
    for title, extra in bodies.items():
        api.post("/api/tasks", json={"title": title, "tags": ["work"], **extra})
    api.post("/api/tasks", json={"title": "other", "tags": ["work"], "description": long_text})
    with app.app_context():
        kinds = dict(
            db.session.execute(
                sa.text(
                    "SELECT title, cognova_task_keys(status, tags, title, description)"
                    " && ARRAY['todo|work|*'] FROM tasks"
                )
            ).all()
        )
    assert kinds == {"long": True, "many": True, "blob": True, "short": False, "other": True}

    def found(term: str) -> list[str]:
        query = urlencode({"status": "todo", "tag": "work", "search": term})
        return sorted(t["title"] for t in api.get("/api/tasks?" + query).json["data"])

    assert found("needle") == ["blob", "long", "many", "short"]
    assert found("NEEDLE") == ["blob", "long", "many", "short"]
    assert found("q" * 70) == ["blob"]
    pasted = long_text[1000:3000]  # a long term: only its first trigrams are asked for
    assert found(pasted) == ["long", "other"]
    assert found(long_text + " needle") == ["long"]
    assert found("z" * 200_000) == []
