"""The memories and hooks pages in Chromium: table, filter, search, edit, delete, preview, stats."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cognova.extensions import db
from cognova.models import HookEvent, MemoryChunk
from tests.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.browser

SEED = [
    ("preference", "Prefers pnpm over npm", 0.95, None, 3),
    ("decision", "PostgreSQL for all persistent data", 0.85, "/home/ada/app", 7),
    ("fact", "Production runs Ubuntu 24.04", 0.7, "/home/ada/app", 0),
    ("solution", "Flaky login test fixed by freezing time", 0.55, None, 1),
    ("pattern", "Services never import flask.request", 0.4, None, 12),
    ("summary", "Built the hook analytics page", 0.2, None, 0),
]


def seed_memories(app):
    with app.app_context():
        for n, (kind, content, relevance, project, used) in enumerate(SEED):
            db.session.add(
                MemoryChunk(
                    id=uuid.uuid4(),
                    chunk_type=kind,
                    content=content,
                    relevance_score=relevance,
                    project_path=project,
                    access_count=used,
                    last_accessed_at=datetime.now(UTC) - timedelta(days=n) if used else None,
                    created_at=datetime.now(UTC) - timedelta(days=n * 9, hours=n),
                )
            )
        db.session.commit()


def test_memories_page(app, page, user):
    seed_memories(app)
    browser_sign_in(page, target="/memories")
    rows = page.locator("#memory-table tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first.locator(".memory-type")).to_have_text("Preference")
    expect(page.locator("#memory-preview")).to_contain_text("5 memories loaded:")
    expect(page.locator("#memory-preview")).to_contain_text(
        "### Preferences\n- Prefers pnpm over npm"
    )
    screenshot(page, "memories")

    # the preview of one project; looking at it does not count as use
    page.fill("#preview-project", "/home/ada/app")
    expect(page.locator("#memory-preview")).to_contain_text("- Production runs Ubuntu 24.04")
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(MemoryChunk.access_count).where(
                    MemoryChunk.content == "Prefers pnpm over npm"
                )
            )
            == 3
        )

    # type filter and search
    page.select_option("#memory-type", "decision")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PostgreSQL")
    page.select_option("#memory-type", "")
    page.fill("#memory-search", "ubuntu")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Production runs Ubuntu 24.04")
    page.fill("#memory-search", "")
    expect(rows).to_have_count(6)

    # edit
    rows.filter(has_text="Flaky login").get_by_role("button", name="Edit").click()
    expect(page.locator("#memory-dialog")).to_be_visible()
    page.fill("#memory-content", "Flaky login test fixed by freezing the clock")
    page.select_option("#memory-kind", "pattern")
    screenshot(page, "memories-edit")
    page.click("#memory-save")
    expect(page.locator("#memory-dialog")).to_be_hidden()
    edited = rows.filter(has_text="freezing the clock")
    expect(edited.locator(".memory-type")).to_have_text("Pattern")

    # a bad edit shows the error in the form
    edited.get_by_role("button", name="Edit").click()
    page.fill("#memory-content", "   ")
    page.click("#memory-save")
    expect(page.locator("#memory-form-error")).to_be_visible()
    page.locator("#memory-dialog [data-close]").first.click()

    # delete with confirmation: cancel keeps it, confirm removes it
    target = rows.filter(has_text="hook analytics page")
    target.get_by_role("button", name="Delete memory").click()
    expect(page.locator("#memory-delete-dialog")).to_be_visible()
    expect(page.locator("#memory-delete-text")).to_contain_text("hook analytics page")
    screenshot(page, "memories-delete")
    page.locator("#memory-delete-dialog [data-close]").click()
    expect(rows).to_have_count(6)
    target.get_by_role("button", name="Delete memory").click()
    page.click("#memory-delete-confirm")
    expect(rows).to_have_count(5)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MemoryChunk)) == 5


def test_new_memory_from_the_page(app, page, user):
    browser_sign_in(page, target="/memories")
    expect(page.locator("#memory-table tbody")).to_contain_text("No memories yet")
    expect(page.locator("#memory-preview")).to_contain_text("no memory would be given")
    page.click("#memory-new")
    page.fill("#memory-content", "Deploys go out on Tuesdays")
    page.select_option("#memory-kind", "decision")
    page.click("#memory-save")
    expect(page.locator("#memory-table tbody tr")).to_have_count(1)
    expect(page.locator("#memory-preview")).to_contain_text(
        "1 memory loaded:\n\n### Decisions\n- Deploys go out on Tuesdays"
    )


def test_memories_page_dark_and_narrow(app, page, user):
    seed_memories(app)
    page.set_viewport_size({"width": 420, "height": 900})
    page.add_init_script("localStorage.setItem('cognova.theme', 'dark')")
    browser_sign_in(page, target="/memories")
    expect(page.locator("#memory-table tbody tr")).to_have_count(6)
    screenshot(page, "memories-dark-phone")


def test_hooks_page(app, page, user):
    now = datetime.now(UTC)
    rows = []
    for day in range(7):
        for n in range(5 + day * 3):
            rows.append(
                {
                    "event_type": ["PreToolUse", "PostToolUse", "UserPromptSubmit"][n % 3],
                    "session_id": f"session-{day % 3}-{uuid.uuid4().hex[:6]}"
                    if n == 0
                    else f"session-{day % 3}",
                    "project_dir": "/home/ada/app",
                    "tool_name": ["Bash", "Read", None][n % 3],
                    "blocked": n % 7 == 0 and n % 3 == 0,
                    "block_reason": "rm -rf is not allowed" if n % 7 == 0 and n % 3 == 0 else None,
                    "duration_ms": 10 + n * 3,
                    "created_at": now - timedelta(days=day, minutes=n),
                }
            )
    rows.append({"event_type": "SessionStart", "session_id": "session-0", "created_at": now})
    with app.app_context():
        db.session.execute(sa.insert(HookEvent), rows)
        db.session.commit()
    browser_sign_in(page, target="/hooks")
    expect(page.locator("#hook-total")).to_have_text(str(len(rows)))
    expect(page.locator("#hook-tools tbody tr")).to_have_count(2)
    expect(page.locator("#hook-events tbody tr")).to_have_count(min(100, len(rows)))
    page.wait_for_timeout(300)  # the chart draws on the next frame
    screenshot(page, "hooks")
    page.select_option("#event-blocked", "true")
    expect(page.locator("#hook-events tbody tr").first).to_contain_text("Blocked")
    page.select_option("#event-blocked", "")
    page.locator("#hook-sessions [data-session]").first.click()
    expect(page.locator("#event-session")).to_be_visible()
    page.check("#hooks-period input[value='24h']", force=True)
    expect(page.locator("#hook-total")).not_to_have_text(str(len(rows)))
