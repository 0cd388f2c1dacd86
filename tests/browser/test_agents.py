"""Agent pages in Chromium: create an agent, run it now and watch it finish, open the run,
and stop a slow run. Runs execute in a real worker process against the Anthropic double."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cognova.extensions import db
from cognova.models.agents import CronAgent, CronAgentRun
from tests.conftest import browser_sign_in, screenshot
from tests.fakes.anthropic_double import AnthropicDouble, Reply, text, tool_use
from tests.jobs.processes import FLASK, Proc, child_env

pytestmark = pytest.mark.browser


@pytest.fixture
def double(app, monkeypatch):
    server = AnthropicDouble().start()
    monkeypatch.setitem(app.config, "ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setitem(app.config, "ANTHROPIC_API_KEY", "test-key")
    yield server
    server.stop()


@pytest.fixture
def worker(app_env, double, tmp_path):
    env = child_env(app_env, ANTHROPIC_BASE_URL=double.url, ANTHROPIC_API_KEY="test-key")
    proc = Proc([*FLASK, "worker", "--queue", "agents"], env, tmp_path / "worker.log")
    yield proc
    proc.stop()


def seed_history(app, agent_id, days=6):
    """A week of varied runs, so the charts and stats have something to show."""
    statuses = ["success", "success", "error", "success", "budget_exceeded", "cancelled"]
    now = datetime.now(UTC)
    with app.app_context():
        for day in range(days):
            for index, status in enumerate(statuses[: 2 + day % 4]):
                started = now - timedelta(days=day, hours=index + 1)
                db.session.add(
                    CronAgentRun(
                        id=uuid.uuid4(),
                        agent_id=agent_id,
                        status=status,
                        output="Done." if status == "success" else None,
                        error="Anthropic API is overloaded" if status == "error" else None,
                        cost_usd=0.012 * (index + 1),
                        input_tokens=1200,
                        output_tokens=300,
                        num_turns=2,
                        started_at=started,
                        completed_at=started + timedelta(seconds=8),
                        duration_ms=8000 + index * 1500,
                    )
                )
        db.session.commit()


def make_agent(app, name, schedule="0 9 * * 1-5", enabled=True) -> uuid.UUID:
    with app.app_context():
        agent = CronAgent(
            id=uuid.uuid4(),
            name=name,
            description="Reviews open tasks every weekday morning",
            schedule=schedule,
            prompt="Review my open tasks and write a plan.",
            enabled=enabled,
            max_turns=20,
            max_budget_usd=0.5,
        )
        db.session.add(agent)
        db.session.commit()
        return agent.id


def test_create_run_now_and_watch_it_finish(page, app, user, double, worker):
    double.push(
        tool_use("get_current_time", {}, text="Let me check the time."),
        text("## Today's plan\n\n- **Write** the report\n- Call Bob"),
    )
    seeded = make_agent(app, "Weekly review", "0 17 * * 5")
    seed_history(app, seeded)
    browser_sign_in(page, target="/agents")
    page.wait_for_selector(".agent-card")
    page.wait_for_function("document.getElementById('stat-runs').textContent !== '–'")
    screenshot(page, "agents-list")

    page.click("#new-agent")
    page.fill("#agent-form input[name=name]", "Morning plan")
    page.select_option("#schedule-preset", "0 9 * * 1-5")
    page.wait_for_selector("#schedule-description >> text=Monday through Friday")
    assert page.locator("#schedule-next li").count() == 5
    page.fill("#agent-form textarea[name=prompt]", "Plan my day from my open tasks.")
    page.fill("#agent-form input[name=maxBudgetUsd]", "2")
    # A bad expression is explained live, before saving.
    page.fill("#agent-form input[name=schedule]", "61 * * * *")
    page.wait_for_selector("text=invalid value '61' in minute field")
    screenshot(page, "agents-form-invalid")
    page.fill("#agent-form input[name=schedule]", "0 9 * * 1-5")
    page.wait_for_selector("#schedule-description >> text=09:00 AM")
    screenshot(page, "agents-form")
    page.click("#agent-save")
    page.wait_for_url("**/agents/*")
    page.wait_for_selector("#agent-schedule-text >> text=Monday through Friday")

    page.click("#agent-run")
    page.wait_for_selector(".run-row .badge.status-success", timeout=30_000)
    assert page.locator("#agent-state").inner_text() == "Success"
    page.click(".run-row")
    page.wait_for_selector("#run-output h2")
    assert page.locator("#run-output h2").inner_text() == "Today's plan"
    assert page.locator("#run-output strong").inner_text() == "Write"
    assert page.locator(".tool-call code").first.inner_text() == "get_current_time"
    screenshot(page, "agents-run-detail")
    page.click("#run-dialog [data-close]")
    screenshot(page, "agents-detail")


def test_stop_a_slow_run_from_the_list(page, app, user, double, worker):
    double.push(Reply(blocks=[{"type": "text", "text": "thinking " * 300}], chunk=5, delay=0.2))
    agent_id = make_agent(app, "Slow thinker")
    browser_sign_in(page, target="/agents")
    card = page.locator(f"[data-agent='{agent_id}']")
    card.locator("[data-action=run]").click()
    card.locator("[data-action=stop]").wait_for(timeout=15_000)
    page.wait_for_timeout(1500)  # let the worker pick it up and stream for a moment
    screenshot(page, "agents-running")
    card.locator("[data-action=stop]").click()
    page.locator(f"[data-agent='{agent_id}'] .badge.status-cancelled").wait_for(timeout=15_000)
    page.locator(f"[data-agent='{agent_id}'] [data-action=run]").wait_for()
    with app.app_context():
        [run] = db.session.query(CronAgentRun).filter_by(agent_id=agent_id).all()
        assert run.status == "cancelled"


def test_enable_toggle_and_edit_from_the_card(page, app, user):
    agent_id = make_agent(app, "Toggled")
    browser_sign_in(page, target="/agents")
    card = page.locator(f"[data-agent='{agent_id}']")
    card.locator("input.toggle").uncheck()
    page.locator(f"[data-agent='{agent_id}'].disabled").wait_for()
    with app.app_context():
        assert db.session.get(CronAgent, agent_id).enabled is False
    page.locator(f"[data-agent='{agent_id}'] [data-action=edit]").click()
    assert page.input_value("#agent-form input[name=name]") == "Toggled"
    page.fill("#agent-form input[name=name]", "Renamed")
    page.click("#agent-save")
    page.wait_for_selector(f"[data-agent='{agent_id}'] >> text=Renamed")


def test_unknown_agent_page_is_404(page, user):
    browser_sign_in(page)
    response = page.goto(f"/agents/{uuid.uuid4()}")
    assert response.status == 404
