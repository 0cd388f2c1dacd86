"""Memory extraction (API.md §12.4–12.5): the real SDK against the Anthropic double, the job run
by a real RQ worker, transcripts of both kinds, bad input and model replies."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import Conversation, ConversationMessage, MemoryChunk, TokenUsage
from cognova.services import memory_extraction as extraction
from tests.conftest import API_TOKEN
from tests.fakes import chat_support
from tests.fakes.anthropic_double import error, text, tool_use
from tests.fakes.chat_support import WorkerThread

# the Anthropic double and the app pointed at it (fixtures shared with the chat tests)
double_server = chat_support.double_server
double = chat_support.double
ai = chat_support.ai


def save(*items, **options):
    return tool_use("save_memories", {"memories": list(items)}, **options)


def item(content, kind="fact", relevance=0.8):
    return {"type": kind, "content": content, "relevance": relevance}


def jsonl(*entries) -> str:
    return "\n".join(json.dumps(e) for e in entries) + "\n"


def cc_line(role, content):
    return {"type": role, "sessionId": "s", "message": {"role": role, "content": content}}


@pytest.fixture
def worker(app):
    thread = WorkerThread(app, queues=("default",)).start()
    yield thread
    thread.stop()


def memories(app):
    with app.app_context():
        return list(db.session.scalars(sa.select(MemoryChunk).order_by(MemoryChunk.created_at)))


# ------------------------------------------------------------------ transcripts


def test_plain_text_keeps_its_last_8000_characters():
    raw = "a" * 5000 + "b" * 5000
    assert extraction.conversation_text(raw) == "a" * 3000 + "b" * 5000


def test_claude_code_jsonl_keeps_the_last_20_user_and_assistant_messages():
    lines = [{"type": "summary", "summary": "old"}]
    for n in range(30):
        lines.append(cc_line("user", f"question {n}"))
        lines.append(
            cc_line(
                "assistant",
                [
                    {"type": "text", "text": f"answer {n}"},
                    {"type": "tool_use", "name": "Bash", "input": {}},
                ],
            )
        )
    lines.append({"type": "system", "content": "ignored"})
    text_ = extraction.conversation_text(jsonl(*lines) + "{torn line")
    parts = text_.split("\n\n")
    assert len(parts) == 20
    assert parts[0] == "User: question 20"
    assert parts[-1] == "Assistant: answer 29\n[used tool Bash]"
    assert "summary" not in text_ and "ignored" not in text_


def test_jsonl_is_cut_to_8000_characters_from_the_end():
    lines = [cc_line("user", "x" * 3000) for _ in range(5)] + [cc_line("assistant", "the end")]
    text_ = extraction.conversation_text(jsonl(*lines))
    assert len(text_) <= 8000 and text_.endswith("Assistant: the end")


def test_text_is_cleaned_of_nul_and_lone_surrogates():
    assert extraction.conversation_text("ok\x00 \ud800 fine") == "ok ? fine"


def test_validate_items_drops_bad_items_clamps_and_cuts():
    got = extraction.validate_items(
        {
            "memories": [
                item("kept", "decision", 0.5),
                item("  clamped high  ", "fact", 7),
                item("clamped low", "pattern", -1),
                item("z" * 150, "summary", 0.5),
                {"type": "opinion", "content": "bad type", "relevance": 0.5},
                {"type": "fact", "content": 42, "relevance": 0.5},
                {"type": "fact", "content": "no relevance"},
                {"type": "fact", "content": "bool relevance", "relevance": True},
                {"type": "fact", "content": "   ", "relevance": 0.5},
                "not an object",
            ]
        }
    )
    assert [(c.chunk_type, c.content, c.relevance) for c in got] == [
        ("decision", "kept", 0.5),
        ("fact", "clamped high", 1.0),
        ("pattern", "clamped low", 0.0),
        ("summary", "z" * 100, 0.5),
    ]
    with pytest.raises(extraction.ExtractionFailed):
        extraction.validate_items({"memories": "nope"})
    with pytest.raises(extraction.ExtractionFailed):
        extraction.validate_items(["x"])


# ------------------------------------------------------------------ the API and the job


def test_extract_runs_as_a_job_and_reports_its_result(app, api, ai, worker):
    ai.push(
        save(
            item("Prefers pnpm over npm", "preference", 0.9),
            item("Deploys on Fridays", "fact", 0.6),
        )
    )
    response = api.post(
        "/api/memory/extract",
        json={
            "transcript": "User: I like pnpm\nAssistant: noted",
            "sessionId": "s1",
            "projectPath": "/p",
        },
    )
    assert response.status_code == 202
    job_id = response.json["data"]["jobId"]
    assert uuid.UUID(job_id)
    deadline = time.monotonic() + 10
    while True:
        job = api.get(f"/api/memory/jobs/{job_id}").json["data"]
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert job["type"] == "memory_extraction" and job["error"] is None
    assert job["createdAt"].endswith("Z") and job["startedAt"] and job["finishedAt"]
    assert job["result"]["message"] == "Extracted 2 memories"
    assert [m["content"] for m in job["result"]["memories"]] == [
        "Prefers pnpm over npm",
        "Deploys on Fridays",
    ]
    stored = memories(app)
    assert {(m.session_id, m.project_path) for m in stored} == {("s1", "/p")}
    request = ai.requests[-1]["body"]
    assert request["tool_choice"] == {"type": "tool", "name": "save_memories"}
    assert request["tools"][0]["name"] == "save_memories"
    assert "I like pnpm" in json.dumps(request["messages"])
    with app.app_context():
        usage = db.session.scalar(sa.select(TokenUsage))
    assert usage.source == "memory_extraction"
    assert usage.source_id == job_id and usage.source_name == "/p"
    assert usage.input_tokens > 0 and usage.output_tokens > 0 and usage.cost_usd > 0


def test_wait_true_returns_the_new_memories(app, api, ai, worker):
    ai.push(save(item("Uses ruff for linting", "fact", 0.7)))
    response = api.post("/api/memory/extract?wait=true", json={"transcript": "we lint with ruff"})
    assert response.status_code == 200
    assert response.json["message"] == "Extracted 1 memories"
    assert [m["content"] for m in response.json["data"]] == ["Uses ruff for linting"]
    with app.app_context():
        assert db.session.scalar(sa.select(TokenUsage.source_name)) == "Memory extraction"


def test_wait_true_with_nothing_worth_keeping(api, ai, worker):
    ai.push(save())
    response = api.post("/api/memory/extract?wait=true", json={"transcript": "hello there"})
    assert response.status_code == 200
    assert response.json == {"data": [], "message": "No memories worth extracting"}


def test_events_one_per_stored_memory(app, api, ai, worker):
    from cognova.services import notifications

    seen = []
    original = notifications.publish_now
    notifications.publish_now = seen.append
    try:
        ai.push(save(item("First fact here"), item("Second fact here", "decision")))
        api.post("/api/memory/extract?wait=true", json={"transcript": "facts"})
    finally:
        notifications.publish_now = original
    assert [(e["resource"], e["action"]) for e in seen] == [("memory", "create")] * 2


def test_duplicates_and_near_duplicates_are_skipped(app, api, ai, worker):
    api.post(
        "/api/memory/store",
        json={"content": "User prefers pnpm over npm", "chunkType": "preference"},
    )
    api.post(
        "/api/memory/store", json={"content": "Production runs Ubuntu 24.04", "chunkType": "fact"}
    )
    ai.push(
        save(
            item("user PREFERS  pnpm over npm", "preference"),  # exact, once normalised
            item("Prefers pnpm over npm", "preference"),  # near: same words but one
            item("Production servers run Ubuntu 24.04", "fact"),  # near
            item("Uses npm for the docs site", "fact"),  # new
            item("Uses npm for the docs site", "fact"),  # repeated within the reply
        )
    )
    response = api.post("/api/memory/extract?wait=true", json={"transcript": "x"})
    assert [m["content"] for m in response.json["data"]] == ["Uses npm for the docs site"]
    assert len(memories(app)) == 3


def test_a_transcript_file_in_claude_projects(app, api, ai, worker):
    folder = app.config["CLAUDE_PROJECTS_DIR"] / "-home-ada-app"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session.jsonl"
    path.write_text(
        jsonl(cc_line("user", "Remember: staging is on port 8080"), cc_line("assistant", "Noted."))
    )
    ai.push(save(item("Staging runs on port 8080")))
    response = api.post("/api/memory/extract?wait=true", json={"transcriptPath": str(path)})
    assert response.status_code == 200, response.json
    assert "staging is on port 8080" in json.dumps(ai.requests[-1]["body"]["messages"])
    assert "sessionId" not in json.dumps(ai.requests[-1]["body"]["messages"])


def test_a_transcript_file_in_the_vault_that_is_not_utf8(app, api, ai, worker):
    path = app.config["VAULT_PATH"] / "notes.txt"
    path.write_bytes(b"caf\xe9 au lait \xff\xfe and decisions")
    ai.push(save(item("Likes coffee")))
    response = api.post("/api/memory/extract?wait=true", json={"transcriptPath": str(path)})
    assert response.status_code == 200
    assert "caf\ufffd au lait" in json.dumps(
        ai.requests[-1]["body"]["messages"], ensure_ascii=False
    )


def test_an_enormous_transcript_file_is_read_from_its_tail(app, api, ai, worker):
    path = app.config["VAULT_PATH"] / "huge.jsonl"
    with open(path, "w") as handle:
        for n in range(3000):
            handle.write(json.dumps(cc_line("user", f"line {n} " + "x" * 2000)) + "\n")
        handle.write(json.dumps(cc_line("assistant", "final answer")) + "\n")
    ai.push(save())
    response = api.post("/api/memory/extract?wait=true", json={"transcriptPath": str(path)})
    assert response.status_code == 200
    sent = json.dumps(ai.requests[-1]["body"]["messages"])
    assert "final answer" in sent and len(sent) < 10_000


def test_an_empty_transcript_file_needs_no_model_call(app, api, ai, worker):
    path = app.config["VAULT_PATH"] / "empty.jsonl"
    path.write_text("")
    response = api.post("/api/memory/extract?wait=true", json={"transcriptPath": str(path)})
    assert response.status_code == 200
    assert response.json["message"] == "No memories worth extracting"
    assert ai.requests == []


def test_transcript_path_rules(app, api, ai, tmp_path):
    outside = tmp_path / "secret.jsonl"
    outside.write_text("{}")
    assert api.post("/api/memory/extract", json={"transcriptPath": str(outside)}).status_code == 403
    vault = app.config["VAULT_PATH"]
    escape = vault / "link.jsonl"
    escape.symlink_to(outside)
    assert api.post("/api/memory/extract", json={"transcriptPath": str(escape)}).status_code == 403
    missing = api.post("/api/memory/extract", json={"transcriptPath": str(vault / "nope.jsonl")})
    assert missing.status_code == 404
    folder = vault / "folder"
    folder.mkdir()
    directory = api.post("/api/memory/extract", json={"transcriptPath": str(folder)})
    assert directory.status_code == 400 and "transcriptPath" in directory.json["errors"]
    relative = api.post("/api/memory/extract", json={"transcriptPath": "notes.jsonl"})
    assert relative.status_code == 400
    traversal = api.post("/api/memory/extract", json={"transcriptPath": f"{vault}/../secret.jsonl"})
    assert traversal.status_code == 403


def test_tilde_is_expanded(app, api, ai, monkeypatch, tmp_path):
    home = tmp_path / "home"
    projects = home / ".claude" / "projects"
    projects.mkdir(parents=True)
    (projects / "a.jsonl").write_text(jsonl(cc_line("user", "hi")))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setitem(app.config, "CLAUDE_PROJECTS_DIR", projects)
    response = api.post(
        "/api/memory/extract", json={"transcriptPath": "~/.claude/projects/a.jsonl"}
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"transcript": ""},
        {"transcript": "   "},
        {"transcript": "x", "transcriptPath": "/tmp/x"},
        {"transcript": 5},
        {"transcript": "x", "sessionId": "s" * 256},
        {"transcript": "x", "projectPath": "p" * 1001},
    ],
)
def test_extract_rejects_bad_bodies(api, ai, body):
    assert api.post("/api/memory/extract", json=body).status_code == 400


def test_extract_rejects_a_transcript_over_5_million_characters(api, ai):
    response = api.post("/api/memory/extract", json={"transcript": "x" * 5_000_001})
    assert response.status_code == 400 and "transcript" in response.json["errors"]


def test_no_key_is_503(app, api):
    saved = app.config.get("ANTHROPIC_API_KEY")
    app.config["ANTHROPIC_API_KEY"] = None
    try:
        response = api.post("/api/memory/extract", json={"transcript": "hello"})
    finally:
        app.config["ANTHROPIC_API_KEY"] = saved
    assert response.status_code == 503
    assert response.json["message"] == "Anthropic API key is not configured"


def test_provider_failure_is_502_with_wait_and_a_failed_job(app, api, ai, worker):
    ai.push(error(500, "upstream exploded"))
    response = api.post("/api/memory/extract?wait=true", json={"transcript": "hello"})
    assert response.status_code == 502
    assert "Anthropic API" in response.json["message"]
    ai.push(error(529))
    job_id = api.post("/api/memory/extract", json={"transcript": "hello"}).json["data"]["jobId"]
    deadline = time.monotonic() + 10
    while (job := api.get(f"/api/memory/jobs/{job_id}").json["data"])["status"] != "failed":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["error"] == "Anthropic API is overloaded" and job["result"] is None


@pytest.mark.parametrize(
    "reply",
    [
        text("I think you like pnpm."),  # no tool call at all
        tool_use("save_memories", {"memories": "pnpm"}),  # malformed input
        tool_use("save_memories", {"items": []}),
    ],
)
def test_malformed_model_replies_fail_the_job_but_record_tokens(app, api, ai, worker, reply):
    ai.push(reply)
    response = api.post("/api/memory/extract?wait=true", json={"transcript": "hello"})
    assert response.status_code == 502
    assert memories(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TokenUsage)) == 1


def test_wait_gives_up_with_202_when_the_job_is_still_queued(app, api, ai, monkeypatch):
    monkeypatch.setattr(extraction, "wait", lambda job, timeout=60.0: "queued")
    response = api.post("/api/memory/extract?wait=true", json={"transcript": "hello"})
    assert response.status_code == 202 and uuid.UUID(response.json["data"]["jobId"])


def test_job_lookup_errors(app, api):
    assert api.get("/api/memory/jobs/nope").status_code == 400
    assert api.get(f"/api/memory/jobs/{uuid.uuid4()}").status_code == 404
    from cognova.extensions import queue

    with app.app_context():
        other = queue("default").enqueue_call(
            "cognova.jobs.system.ping",
            args=("x",),
            job_id=str(uuid.uuid4()),
            meta={"type": "document_sync"},
        )
    assert api.get(f"/api/memory/jobs/{other.id}").status_code == 404


def test_a_queued_job_reports_queued(api, ai):
    job_id = api.post("/api/memory/extract", json={"transcript": "hello"}).json["data"]["jobId"]
    job = api.get(f"/api/memory/jobs/{job_id}").json["data"]
    assert job["status"] == "queued" and job["startedAt"] is None and job["finishedAt"] is None


# ------------------------------------------------------------------ chat conversations


def conversation(app, ended_minutes_ago, messages=(("user", "I use vim"), ("assistant", "Noted"))):
    with app.app_context():
        row = Conversation(
            id=uuid.uuid4(),
            session_id=str(uuid.uuid4()),
            status="idle",
            ended_at=datetime.now(UTC) - timedelta(minutes=ended_minutes_ago),
            message_count=len(messages),
        )
        db.session.add(row)
        db.session.flush()
        for n, (role, content) in enumerate(messages):
            db.session.add(
                ConversationMessage(
                    conversation_id=row.id,
                    role=role,
                    content=content,
                    created_at=datetime.now(UTC) - timedelta(minutes=60 - n),
                )
            )
        db.session.commit()
        return row.id, row.session_id


def test_idle_conversations_are_extracted_once(app, ai, run_jobs):
    from cognova.jobs import memory as memory_jobs

    idle_id, idle_session = conversation(
        app,
        15,
        (
            ("user", "I always use vim"),
            ("assistant", json.dumps([{"type": "text", "text": "Noted, vim."}])),
        ),
    )
    conversation(app, 3)  # still warm
    with app.app_context():
        assert memory_jobs.extract_idle_conversations() == 1
        assert memory_jobs.extract_idle_conversations() == 0
    ai.push(save(item("Uses vim as editor", "preference")))
    run_jobs(["default"])
    sent = json.dumps(ai.requests[-1]["body"]["messages"])
    assert "I always use vim" in sent and "Noted, vim." in sent
    [row] = memories(app)
    assert (row.content, row.session_id, row.project_path) == (
        "Uses vim as editor",
        idle_session,
        None,
    )
    # the conversation continues and goes idle again: extracted again
    with app.app_context():
        db.session.execute(
            sa.update(Conversation)
            .where(Conversation.id == idle_id)
            .values(ended_at=datetime.now(UTC) - timedelta(minutes=11))
        )
        db.session.commit()
        assert memory_jobs.extract_idle_conversations() == 1


def test_idle_duty_waits_for_a_key(app):
    from cognova.jobs import memory as memory_jobs

    conversation(app, 30)
    with app.app_context():
        assert memory_jobs.extract_idle_conversations() == 0


def test_extract_conversation_job_is_a_memory_job(app, api, ai, run_jobs):
    from cognova.jobs import memory as memory_jobs

    conv_id, _ = conversation(app, 20)
    with app.app_context():
        job_id = memory_jobs.enqueue_conversation_extraction(conv_id)
    ai.push(save())
    run_jobs(["default"])
    job = api.get(f"/api/memory/jobs/{job_id}").json["data"]
    assert (
        job["status"] == "succeeded" and job["result"]["message"] == "No memories worth extracting"
    )


def test_concurrent_waiters_each_get_their_own_result(app, api, ai, worker):
    ai.push(save(item("Alpha memory")), save(item("Beta memory")))
    results = []

    def call(word):
        client = app.test_client()
        response = client.post(
            "/api/memory/extract?wait=true",
            json={"transcript": word},
            headers={"X-API-Token": API_TOKEN},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=call, args=(w,)) for w in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    assert sorted(m.content for m in memories(app)) == ["Alpha memory", "Beta memory"]
