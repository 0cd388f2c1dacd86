"""The sync engine, the sync job (run by a real RQ worker), the clock duty and the watcher."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.documents import Document
from cognova.services import sync


@pytest.fixture
def vault(app):
    return app.config["VAULT_PATH"]


def rows(api, deleted=True):
    query = {"includeDeleted": "true"} if deleted else {}
    return {d["path"]: d for d in api.get("/api/documents", query_string=query).json["data"]}


def full_sync(app):
    with app.app_context():
        try:
            return sync.full_sync()
        finally:
            db.session.remove()


def test_full_sync_creates_updates_and_deletes(app, api, vault):
    (vault / "a.md").write_text("---\ntags: [one]\n---\n# A")
    (vault / "sub").mkdir()
    (vault / "sub" / "b.txt").write_text("b")
    (vault / ".git").mkdir()
    (vault / ".git" / "HEAD").write_text("ref")
    (vault / "sub" / ".draft.md").write_text("hidden")
    report = full_sync(app)
    assert report.counts() == {
        "scanned": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    found = rows(api)
    assert set(found) == {"a.md", "sub/b.txt"}
    assert found["a.md"]["tags"] == ["one"] and found["a.md"]["title"] == "A"
    assert found["a.md"]["createdBy"] is None

    again = full_sync(app)
    assert again.counts()["unchanged"] == 2 and again.created == again.updated == 0

    (vault / "a.md").write_text("---\ntags: [two]\n---\n# A2")
    (vault / "sub" / "b.txt").unlink()
    report = full_sync(app)
    assert (report.updated, report.deleted, report.unchanged) == (1, 1, 0)
    found = rows(api)
    assert found["a.md"]["tags"] == ["two"] and found["a.md"]["title"] == "A2"
    assert found["sub/b.txt"]["deletedAt"] is not None


def test_rename_on_disk_keeps_tags_project_and_sharing(app, api, vault):
    (vault / "plain.txt").write_text("same bytes")
    doc = api.post("/api/documents/by-path", json={"path": "plain.txt"}).json["data"]["document"]
    api.put(
        f"/api/documents/{doc['id']}",
        json={"tags": ["kept"], "shared": True, "shareType": "public"},
    )
    os.makedirs(vault / "moved")
    os.rename(vault / "plain.txt", vault / "moved" / "renamed.txt")
    report = full_sync(app)
    assert (report.created, report.updated, report.deleted) == (0, 1, 0)
    found = rows(api)
    assert list(found) == ["moved/renamed.txt"]
    moved = found["moved/renamed.txt"]
    assert moved["id"] == doc["id"]
    assert moved["tags"] == ["kept"] and moved["shared"] is True and moved["shareType"] == "public"
    assert moved["title"] == "renamed"


def test_reappearing_file_revives_its_row(app, api, vault):
    (vault / "r.md").write_text("# R")
    full_sync(app)
    (vault / "r.md").unlink()
    full_sync(app)
    assert rows(api)["r.md"]["deletedAt"] is not None
    (vault / "r.md").write_text("# R again")
    report = full_sync(app)
    assert report.updated == 1
    found = rows(api)["r.md"]
    assert found["deletedAt"] is None and found["title"] == "R again"


def test_stat_cache_skips_reads_but_a_changed_row_is_reread(app, api, vault):
    (vault / "c.md").write_text("# C")
    full_sync(app)
    doc = rows(api)["c.md"]
    # an API write changes the row and the file; the next sync must not undo it
    api.put(f"/api/documents/{doc['id']}", json={"tags": ["changed"]})
    report = full_sync(app)
    assert report.unchanged == 1
    assert rows(api)["c.md"]["tags"] == ["changed"]


def test_files_over_the_limit_are_skipped(app, api, vault):
    app.config["MAX_FILE_BYTES"] = 10
    try:
        (vault / "big.md").write_text("x" * 11)
        (vault / "small.md").write_text("x")
        report = full_sync(app)
        assert report.skipped == 1 and report.created == 1
    finally:
        app.config["MAX_FILE_BYTES"] = 10 * 1024 * 1024


def test_dry_run_writes_nothing(app, api, vault):
    (vault / "a.md").write_text("a")
    with app.app_context():
        report = sync.full_sync(dry_run=True)
        db.session.remove()
    assert report.created == 1
    assert rows(api) == {}


def test_bulk_import_keeps_every_byte_and_field(app, api, vault):
    """New rows go in with COPY: text that COPY would escape must come back unchanged."""
    project = api.post("/api/projects", json={"name": "P", "color": "#3b82f6"}).json["data"]
    awkward = 'back\\slash\ttab\r\nline "quoted" {brace} ,comma \\N null-ish é 中文\n'
    (vault / "dir with space").mkdir()
    for n in range(sync.BATCH + 3):  # more than one batch
        (vault / "dir with space" / f"n{n:04d}.md").write_text(
            f"---\ntitle: 'Tab\tand \\ slash {n}'\ntags: ['a,b', 'q\"t', 'x']\n"
            f"project: {project['id']}\nshared: true\nshareType: private\n---\n{awkward}{n}",
            newline="",
        )
    (vault / "plain\\name.txt").write_text(awkward, newline="")
    (vault / "blob.bin").write_bytes(b"\x00\x01\\\t\n")
    report = full_sync(app)
    assert report.created == sync.BATCH + 5 and report.errors == 0

    with app.app_context():
        stored = {
            d.path: d
            for d in db.session.scalars(sa.select(Document).where(Document.path.like("dir%")))
        }
        db.session.remove()
    assert len(stored) == sync.BATCH + 3
    row = stored["dir with space/n0007.md"]
    assert row.title == "Tab\tand \\ slash 7"
    assert sorted(row.tags) == ["a,b", 'q"t', "x"]
    assert str(row.project_id) == project["id"]
    assert row.shared is True and row.share_type == "private"
    assert row.content == (vault / "dir with space" / "n0007.md").read_bytes().decode()
    assert row.content_hash == hashlib.sha256(row.content.encode()).hexdigest()
    assert row.mime_type == "text/markdown" and row.file_type == "md"
    found = {
        p: api.post("/api/documents/by-path", json={"path": p}).json["data"]["document"]
        for p in ("plain\\name.txt", "blob.bin")
    }
    assert found["plain\\name.txt"]["title"] == "plain\\name"
    assert found["plain\\name.txt"]["kind"] == "text"
    assert found["blob.bin"]["kind"] == "binary"
    assert found["blob.bin"]["contentHash"] == hashlib.sha256(b"\x00\x01\\\t\n").hexdigest()
    body = api.post("/api/documents/by-path", json={"path": "plain\\name.txt"}).json["data"]
    assert body["body"] == awkward
    again = full_sync(app)
    assert again.unchanged == sync.BATCH + 5 and again.created == again.updated == 0


def test_bulk_import_skips_a_path_created_meanwhile(app, api, vault, monkeypatch):
    """A row created by another writer between the walk and the insert wins; the rest of its
    batch is still inserted and the sync does not fail."""
    for name in ("a.md", "b.md", "c.md"):
        (vault / name).write_text(f"# {name}")
    other = uuid.uuid4()
    write_chunk = sync._write_chunk

    def racing(*args, **kwargs):
        inserts = write_chunk(*args, **kwargs)
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(Document.__table__).values(
                    id=other, path="b.md", title="by the API", file_type="md", content="x"
                )
            )
        return inserts

    monkeypatch.setattr(sync, "_write_chunk", racing)
    report = full_sync(app)
    assert report.created == 2 and report.errors == 0
    found = rows(api)
    assert set(found) == {"a.md", "b.md", "c.md"}
    assert found["b.md"]["id"] == str(other) and found["b.md"]["title"] == "by the API"
    assert found["c.md"]["title"] == "c.md"


# ------------------------------------------------------------------ the job


def test_sync_job_through_the_api(api, vault, run_jobs):
    (vault / "a.md").write_text("a")
    first = api.post("/api/documents/sync")
    assert first.status_code == 202
    job_id = first.json["data"]["jobId"]
    uuid.UUID(job_id)
    assert api.post("/api/documents/sync").json["data"]["jobId"] == job_id  # one at a time
    queued = api.get(f"/api/documents/sync/{job_id}").json["data"]
    assert queued["status"] == "queued" and queued["type"] == "document_sync"
    assert queued["result"] is None and queued["startedAt"] is None
    run_jobs()
    done = api.get(f"/api/documents/sync/{job_id}").json["data"]
    assert done["status"] == "succeeded"
    assert done["result"] == {
        "scanned": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    assert done["error"] is None
    assert done["createdAt"].endswith("Z") and done["finishedAt"].endswith("Z")
    assert set(done) == {
        "id",
        "type",
        "status",
        "result",
        "error",
        "createdAt",
        "startedAt",
        "finishedAt",
    }
    second = api.post("/api/documents/sync").json["data"]["jobId"]
    assert second != job_id


def test_sync_wait_returns_the_counts(api, vault, run_jobs):
    (vault / "a.md").write_text("a")
    answers = []
    # RQ workers need the main thread (signals): the waiting request runs beside it
    request = threading.Thread(
        target=lambda: answers.append(api.post("/api/documents/sync?wait=true"))
    )
    request.start()
    time.sleep(0.5)
    run_jobs()
    request.join(30)
    [response] = answers
    assert response.status_code == 200
    data = response.json["data"]
    assert data["created"] == 1 and data["scanned"] == 1
    uuid.UUID(data["jobId"])


def test_sync_job_lookup_errors(api, app):
    assert api.get("/api/documents/sync/not-a-uuid").status_code == 400
    assert api.get(f"/api/documents/sync/{uuid.uuid4()}").status_code == 404
    from cognova.jobs.system import ping

    with app.app_context():
        other = ping.enqueue("x", job_id=str(uuid.uuid4()), meta={"type": "memory_extraction"})
    assert api.get(f"/api/documents/sync/{other.id}").status_code == 404


def test_clock_registers_the_periodic_sync(app):
    from cognova.clock import DUTIES, load_duties

    load_duties()
    duty = DUTIES["vault-sync"]
    assert duty.every == 60
    with app.app_context():
        job_id = duty.run()
        assert duty.run() == job_id


# ------------------------------------------------------------------ the watcher


def test_watcher_syncs_changes_within_two_seconds(app, api, vault):
    from cognova.services.watcher import VaultWatcher

    watcher = VaultWatcher(app).start()
    try:
        (vault / "dir").mkdir()
        (vault / "dir" / "w.md").write_text("# Watched")
        (vault / ".tmp.md").write_text("hidden")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "dir/w.md" not in rows(api):
            time.sleep(0.1)
        assert rows(api)["dir/w.md"]["title"] == "Watched"
        assert ".tmp.md" not in rows(api)
        os.rename(vault / "dir" / "w.md", vault / "dir" / "moved.md")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "dir/moved.md" not in rows(api):
            time.sleep(0.1)
        found = rows(api)
        assert "dir/moved.md" in found and "dir/w.md" not in found
        (vault / "dir" / "moved.md").unlink()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and rows(api)["dir/moved.md"]["deletedAt"] is None:
            time.sleep(0.1)
        assert rows(api)["dir/moved.md"]["deletedAt"] is not None
    finally:
        watcher.stop()


def test_watcher_is_off_by_default(app):
    from cognova.services import watcher

    assert watcher.start(app) is None


# ------------------------------------------------------------------ import-vault


@pytest.fixture
def notes(tmp_path):
    source = tmp_path / "notes"
    (source / "deep" / "er").mkdir(parents=True)
    (source / "one.md").write_text("---\ntitle: One\n---\nbody")
    (source / "deep" / "two.md").write_text("# Two")
    (source / "deep" / "er" / "trois ünïcode.md").write_text("# Trois")
    (source / ".obsidian").mkdir()
    (source / ".obsidian" / "config.json").write_text("{}")
    return source


def test_import_copies_syncs_and_is_idempotent(app, api, runner, vault, notes):
    result = runner.invoke(args=["import-vault", str(notes)])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, unchanged 0, skipped 0, errors 0" in result.output
    assert (vault / "deep" / "er" / "trois ünïcode.md").read_text() == "# Trois"
    assert not (vault / ".obsidian").exists()
    assert set(rows(api)) == {"one.md", "deep/two.md", "deep/er/trois ünïcode.md"}
    again = runner.invoke(args=["import-vault", str(notes)])
    assert again.exit_code == 0
    assert "created 0, updated 0, unchanged 3, skipped 0, errors 0" in again.output
    (notes / "one.md").write_text("changed")
    third = runner.invoke(args=["import-vault", str(notes), "--into", "inbox"])
    assert "created 3" in third.output
    assert (vault / "inbox" / "one.md").read_text() == "changed"


def test_import_dry_run_writes_nothing(api, runner, vault, notes):
    result = runner.invoke(args=["import-vault", str(notes), "--dry-run"])
    assert result.exit_code == 0
    assert "Dry run: created 3" in result.output
    assert list(vault.iterdir()) == []
    assert rows(api) == {}


def test_import_reports_errors_with_exit_status(runner, vault, notes):
    (vault / "one.md").mkdir()  # a directory where the note should go
    result = runner.invoke(args=["import-vault", str(notes)])
    assert result.exit_code == 1
    assert "errors 1" in result.output and "one.md" in result.output


def test_import_in_place(api, runner, vault, app):
    (vault / "a.md").write_text("a")
    result = runner.invoke(args=["import-vault", str(vault), "--in-place"])
    assert result.exit_code == 0, result.output
    assert "created 1" in result.output
    again = runner.invoke(args=["import-vault", str(vault), "--in-place"])
    assert "created 0, updated 0, unchanged 1" in again.output
    wrong = runner.invoke(args=["import-vault", str(vault)])
    assert wrong.exit_code == 2


def test_import_script_runs(app_env, notes, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "import_vault.py"), str(notes), "--dry-run"],
        env={**os.environ, **app_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Dry run: created 3" in result.stdout
