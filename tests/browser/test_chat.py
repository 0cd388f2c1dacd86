"""The chat page in Chromium against the API double, with a real RQ worker thread."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cognova.extensions import db
from cognova.models import Conversation, Task
from tests.conftest import browser_sign_in, screenshot
from tests.fakes.anthropic_double import text, tool_use

pytestmark = pytest.mark.browser


def test_full_exchange_with_a_tool_call(app, page, user, ai, chat_worker):
    ai.push(
        tool_use("create_task", {"title": "Buy oat milk", "priority": 3}, text="Adding it now."),
        text("Done! I added **Buy oat milk** with high priority.\n\n- one\n- two", delay=0.005),
    )
    browser_sign_in(page, target="/chat")
    expect(page.locator("#chat-welcome")).to_be_visible()
    page.fill("#chat-input", "Please add oat milk to my tasks")
    page.keyboard.press("Enter")
    expect(page.locator(".msg-user")).to_have_text("Please add oat milk to my tasks")
    reply = page.locator(".msg-assistant").last
    expect(reply.locator(".tool.tool-done .tool-name")).to_have_text("create_task")
    expect(reply.locator("strong")).to_have_text("Buy oat milk")
    expect(reply.locator(".msg-foot")).to_contain_text("$")
    expect(page.locator("#chat-send")).to_be_visible()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    reply.locator(".tool-head").click()
    expect(reply.locator(".tool-result")).to_contain_text('"title": "Buy oat milk"')
    expect(page.locator(".chat-item")).to_have_count(1)
    expect(page.locator("#chat-title")).to_have_text("Shopping list", timeout=8000)
    screenshot(page, "chat-exchange")
    with app.app_context():
        assert db.session.scalar(sa.select(Task.title)) == "Buy oat milk"

    # Reloading shows the stored conversation the same way.
    page.reload()
    expect(page.locator(".msg-assistant .tool.tool-done")).to_have_count(1)
    expect(page.locator(".msg-assistant strong")).to_have_text("Buy oat milk")


def test_stop_button_interrupts(app, page, user, ai, chat_worker):
    ai.push(text("Counting slowly: " + " ".join(str(n) for n in range(400)), chunk=4, delay=0.03))
    browser_sign_in(page, target="/chat")
    page.fill("#chat-input", "Count to 400")
    page.click("#chat-send")
    expect(page.locator(".msg-assistant .msg-text")).to_contain_text("Counting slowly")
    page.click("#chat-stop")
    reply = page.locator(".msg-assistant").last
    expect(reply.locator(".msg-foot")).to_have_text("Stopped")
    expect(page.locator("#chat-status")).to_have_text("interrupted")
    screenshot(page, "chat-interrupted")
    with app.app_context():
        assert db.session.scalar(sa.select(Conversation.status)) == "interrupted"


def test_reload_mid_stream_resumes(app, page, user, ai, chat_worker):
    words = " ".join(f"w{n}" for n in range(150))
    ai.push(text(words, chunk=6, delay=0.02))
    browser_sign_in(page, target="/chat")
    page.fill("#chat-input", "Stream a lot")
    page.click("#chat-send")
    expect(page.locator(".msg-assistant .msg-text")).to_contain_text("w10")
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}$"))
    page.reload()
    reply = page.locator(".msg-assistant").last
    expect(reply.locator(".msg-foot")).to_contain_text("$", timeout=15000)
    assert reply.locator(".msg-text").inner_text().strip() == words
    expect(page.locator(".msg-assistant")).to_have_count(1)
    screenshot(page, "chat-resumed")
