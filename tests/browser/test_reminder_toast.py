"""A reminder fired by the clock reaches an open page as a toast, through Redis and the stream."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from cognova.clock import DUTIES, Clock, load_duties
from tests.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def clock_step(app):
    clocks = []

    def step():
        load_duties()
        clock = Clock(app, tick=0)
        # Only the reminder duty is due: the others have their own tests, and a slow one
        # (vault sync, memory decay) could outlast the toast this test looks for.
        now = time.monotonic()
        clock.last_run = {name: now for name in DUTIES if name != "fire-reminders"}
        clocks.append(clock)
        return clock.step()

    yield step
    with app.app_context():
        for clock in clocks:
            clock._drop_lock_conn()


def wait_until_live(page):
    page.wait_for_function("document.documentElement.dataset.live === 'live'")


def test_a_reminder_fired_by_the_clock_shows_a_toast(page, api, clock_step):
    task = api.post("/api/tasks", json={"title": "Quarterly taxes"}).json["data"]
    due = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    reminder = api.post(
        "/api/reminders",
        json={"taskId": task["id"], "message": "File the VAT return", "remindAt": due},
    ).json["data"]
    browser_sign_in(page)
    wait_until_live(page)

    assert "fire-reminders" in clock_step()

    toast = page.locator(".toast", has_text="File the VAT return")
    expect(toast).to_be_visible()
    expect(toast.locator("strong")).to_have_text("Reminder")
    screenshot(page, "reminder-toast")
    assert api.get(f"/api/reminders/{reminder['id']}").json["data"]["status"] == "sent"
    # The dashboard listens for the same event and drops the reminder from "upcoming".
    expect(page.locator("#card-reminders")).to_contain_text("No reminders coming up")

    toast.locator(".toast-action", has_text="Open").click()
    page.wait_for_url(f"**/tasks?selected={task['id']}")
    expect(page.locator("#task-form input[name=title]")).to_have_value("Quarterly taxes")
    sent = page.locator(".reminder-row.sent", has_text="File the VAT return")
    expect(sent.locator(".badge")).to_have_text("Sent")


def test_reminder_toasts_follow_the_notification_preferences(page, api, clock_step):
    saved = api.put(
        "/api/settings",
        json={"notifications": {"preferences": {"reminder": {"complete": False}}}},
    )
    if saved.status_code != 200:
        pytest.skip("PUT /api/settings is not available")
    api.post(
        "/api/reminders",
        json={"message": "Silent one", "remindAt": datetime.now(UTC).isoformat()},
    )
    browser_sign_in(page, target="/tasks")
    wait_until_live(page)
    page.evaluate(
        "window.__changes = [];"
        "document.addEventListener('cognova:change', e => window.__changes.push(e.detail))"
    )
    clock_step()
    page.wait_for_function(
        "window.__changes.some(c => c.resource === 'reminder' && c.action === 'complete')"
    )
    page.wait_for_timeout(300)
    expect(page.locator(".toast", has_text="Silent one")).to_have_count(0)
