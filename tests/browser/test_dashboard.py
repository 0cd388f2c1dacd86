"""The dashboard page: today's tasks, counts, reminders, quick capture and the empty cards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.browser


def local_iso(moment: datetime) -> str:
    """A local time of the test machine with its offset: the browser shares the zone."""
    return moment.astimezone().isoformat()


def test_empty_dashboard_explains_each_card(page, user):
    browser_sign_in(page)
    expect(page.locator("#today-body")).to_contain_text("No tasks yet")
    for card in ("card-reminders", "card-usage", "card-notes", "card-chats", "card-agents"):
        expect(page.locator(f"#{card} .dash-empty")).to_be_visible()
        expect(page.locator(f"#{card} .dash-empty")).not_to_have_text("Loading…")
    screenshot(page, "dashboard-empty")


def test_today_overdue_counts_and_completing_from_the_dashboard(page, api):
    today = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
    api.post("/api/tasks", json={"title": "Send the invoice", "dueDate": local_iso(today)})
    api.post(
        "/api/tasks",
        json={"title": "Book the dentist", "dueDate": local_iso(today - timedelta(days=2))},
    )
    api.post("/api/tasks", json={"title": "Someday: learn Welsh", "status": "blocked"})
    api.post("/api/tasks", json={"title": "Already done", "status": "done"})
    task = api.post("/api/tasks", json={"title": "Prepare the talk"}).json["data"]
    api.post(
        "/api/reminders",
        json={
            "taskId": task["id"],
            "message": "Rehearse the talk",
            "remindAt": local_iso(datetime.now() + timedelta(hours=3)),
        },
    )
    browser_sign_in(page)
    today_card = page.locator("#card-today")
    expect(today_card.locator(".dash-section-title.overdue")).to_have_text("Overdue · 1")
    expect(today_card.locator(".task-row", has_text="Book the dentist")).to_be_visible()
    expect(today_card.locator(".task-row", has_text="Send the invoice")).to_be_visible()
    expect(page.locator("[data-count=todo]")).to_have_text("3")
    expect(page.locator("[data-count=blocked]")).to_have_text("1")
    expect(page.locator("[data-count=done]")).to_have_text("1")
    expect(page.locator("#card-reminders")).to_contain_text("Rehearse the talk")
    screenshot(page, "dashboard")

    invoice = today_card.locator(".task-row", has_text="Send the invoice")
    with page.expect_response(lambda r: r.request.method == "PUT" and "/api/tasks/" in r.url):
        invoice.locator(".task-check").click()
    expect(page.locator("[data-count=done]")).to_have_text("2")
    expect(today_card.locator(".task-row", has_text="Send the invoice")).to_have_count(0)
    tasks = api.get("/api/tasks?status=done").json["data"]
    assert "Send the invoice" in [t["title"] for t in tasks]


def test_quick_capture_creates_a_task(page, api):
    browser_sign_in(page)
    expect(page.locator("[data-count=todo]")).to_have_text("0")
    page.fill("#capture-title", "  Buy oat milk  ")
    page.press("#capture-title", "Enter")
    expect(page.locator("[data-count=todo]")).to_have_text("1")
    expect(page.locator("#capture-title")).to_have_value("")
    expect(page.locator(".toast", has_text="Buy oat milk")).to_be_visible()
    tasks = api.get("/api/tasks").json["data"]
    assert [(t["title"], t["status"]) for t in tasks] == [("Buy oat milk", "todo")]
    screenshot(page, "dashboard-captured")


def test_dashboard_refreshes_when_a_task_changes_elsewhere(page, api):
    browser_sign_in(page)
    page.wait_for_function("document.documentElement.dataset.live === 'live'")
    expect(page.locator("[data-count=todo]")).to_have_text("0")
    now = local_iso(datetime.now())
    api.post("/api/tasks", json={"title": "Made in another tab", "dueDate": now})
    expect(page.locator("#card-today .task-row", has_text="Made in another tab")).to_be_visible()
    expect(page.locator("[data-count=todo]")).to_have_text("1")
