"""The compact chat panel: ask Claude from any page and see the reply stream in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cognova.extensions import db
from cognova.models import Conversation, Task
from tests.conftest import browser_sign_in, screenshot
from tests.fakes.anthropic_double import text, tool_use

pytestmark = pytest.mark.browser


def test_ask_claude_from_the_dashboard_with_a_tool_call(app, page, user, ai, chat_worker):
    ai.push(
        tool_use("create_task", {"title": "Call the bank", "priority": 2}, text="On it."),
        text("Added **Call the bank** to your tasks."),
        text("Second answer in the same conversation."),
    )
    browser_sign_in(page, target="/")
    expect(page.locator(".chat-panel")).to_be_hidden()
    page.click(".chat-fab")
    panel = page.locator(".chat-panel")
    expect(panel).to_be_visible()
    panel.locator("textarea").fill("Remind me to call the bank")
    panel.locator("textarea").press("Enter")
    reply = panel.locator(".chat-panel-msg.assistant").last
    expect(reply.locator(".chat-panel-tool.done")).to_have_text("create_task")
    expect(reply.locator("strong")).to_have_text("Call the bank")
    expect(reply.locator(".chat-panel-foot")).to_contain_text("$")
    screenshot(page, "chat-panel")
    with app.app_context():
        assert db.session.scalar(sa.select(Task.title)) == "Call the bank"
        conversation_id = str(db.session.scalar(sa.select(Conversation.id)))
    assert panel.locator(".chat-panel-open").get_attribute("href") == f"/chat/{conversation_id}"

    # The panel keeps the conversation across pages.
    page.goto("/tasks")
    page.click(".chat-fab")
    page.locator(".chat-panel textarea").fill("And now?")
    page.locator(".chat-panel textarea").press("Enter")
    expect(page.locator(".chat-panel-msg.assistant").last).to_contain_text("Second answer")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)) == 1


def test_the_chat_page_has_no_panel(page, user):
    browser_sign_in(page, target="/chat")
    expect(page.locator(".chat-fab")).to_have_count(0)
