"""Settings (secrets, password, theme) and the usage page in a real browser."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.system import Secret, TokenUsage
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, browser_sign_in, screenshot

pytestmark = pytest.mark.browser


def test_add_edit_and_delete_a_secret(page, app, user):
    browser_sign_in(page, target="/settings?tab=secrets")
    page.wait_for_selector("#secrets-table .empty-row")
    page.click("#add-secret")
    page.fill("#secret-form [name=key]", "github_token")
    assert page.input_value("#secret-form [name=key]") == "GITHUB_TOKEN"
    page.fill("#secret-form [name=value]", "ghp_browserSecret123")
    page.fill("#secret-form [name=description]", "Used by the triage agent")
    screenshot(page, "settings-secret-modal")
    page.click("#secret-form button[type=submit]")
    row = page.locator('#secrets-table tr[data-key="GITHUB_TOKEN"]')
    row.wait_for()
    assert "Used by the triage agent" in row.inner_text()
    assert "ghp_browserSecret123" not in page.content()
    with app.app_context():
        stored = db.session.scalar(sa.select(Secret))
        assert stored.key == "GITHUB_TOKEN" and "ghp_" not in stored.encrypted_value
        db.session.remove()

    # a duplicate key shows the conflict in the modal
    page.click("#add-secret")
    page.fill("#secret-form [name=key]", "GITHUB_TOKEN")
    page.fill("#secret-form [name=value]", "x")
    page.click("#secret-form button[type=submit]")
    page.locator("#secret-form .form-error").wait_for(state="visible")
    assert "already exists" in page.inner_text("#secret-form .form-error")
    page.click("#secret-modal .modal-actions [data-close]")

    row.get_by_role("button", name="Edit").click()
    page.fill("#secret-form [name=description]", "Rotated")
    page.click("#secret-form button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#secrets-table tr[data-key=GITHUB_TOKEN]')"
        ".innerText.includes('Rotated')"
    )
    screenshot(page, "settings-secrets")

    row.get_by_role("button", name="Delete").click()
    page.click("#confirm-delete-secret")
    page.wait_for_selector("#secrets-table .empty-row")


def test_change_password_then_sign_in_with_the_new_one(page, user):
    browser_sign_in(page, target="/settings?tab=account")
    page.wait_for_selector("#session-list .session-row")
    assert page.input_value("#email-form [name=email]") == ADMIN_EMAIL
    screenshot(page, "settings-account")

    form = "#password-form"
    page.fill(f"{form} [name=currentPassword]", "wrong password!")
    page.fill(f"{form} [name=newPassword]", "a new passphrase 42")
    page.fill(f"{form} [name=confirmPassword]", "a new passphrase 42")
    page.click(f"{form} button[type=submit]")
    page.locator(f"{form} .form-error").wait_for(state="visible")
    assert "not correct" in page.inner_text(f"{form} .form-error")

    page.fill(f"{form} [name=currentPassword]", ADMIN_PASSWORD)
    page.fill(f"{form} [name=newPassword]", "short")
    page.fill(f"{form} [name=confirmPassword]", "short")
    page.click(f"{form} button[type=submit]")
    assert "at least 8" in page.inner_text(f"{form} .form-error")

    page.fill(f"{form} [name=newPassword]", "a new passphrase 42")
    page.fill(f"{form} [name=confirmPassword]", "a new passphrase 42")
    page.click(f"{form} button[type=submit]")
    page.locator(".toast", has_text="Password changed").wait_for()

    page.click("[data-action=sign-out]")
    page.wait_for_url("**/login")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.locator(".form-error").wait_for(state="visible")
    browser_sign_in(page, password="a new passphrase 42", target="/settings")
    assert "/settings" in page.url


def test_app_preferences_theme_and_toggles(page, app, user):
    browser_sign_in(page, target="/settings?tab=app")
    page.wait_for_selector("#theme-options input:checked")
    page.click(".theme-option:has(input[value=dark])")
    page.wait_for_function("document.documentElement.dataset.theme === 'dark'")
    toggle = page.locator('[data-pref="task.edit"]')
    assert toggle.is_checked()
    page.locator("tr[data-resource=task] td:nth-child(4) .switch").click()
    page.locator(".toast", has_text="Theme saved").wait_for()
    page.wait_for_function("!document.querySelector('[data-pref=\"task.edit\"]').checked")
    page.fill("#webhook-form [name=webhookUrl]", "ftp://nope")
    page.click("#webhook-form button[type=submit]")
    page.locator("#webhook-error").wait_for(state="visible")
    screenshot(page, "settings-app-dark")

    from cognova.services import settings

    with app.app_context():
        saved = settings.effective(user.id)
        db.session.remove()
    assert saved["ui"]["theme"] == "dark"
    assert saved["notifications"]["preferences"]["task"]["edit"] is False
    # another page load applies the saved theme even if this browser forgot it
    page.evaluate("localStorage.removeItem('cognova.theme')")
    page.goto("/usage")
    page.wait_for_function("document.documentElement.dataset.theme === 'dark'")


def seed_usage(app):
    rng = random.Random(3)
    now = datetime.now(UTC)
    names = {
        "chat": ["Planning the week", "Refactor notes", "Trip to Lisbon", None],
        "agent": ["Morning digest", "Inbox triage"],
        "memory_extraction": ["Memory extraction", None],
    }
    rows = []
    for i in range(420):
        source = rng.choices(list(names), [6, 3, 1])[0]
        when = now - timedelta(hours=rng.random() * 24 * 30)
        inp, out = rng.randint(500, 30000), rng.randint(100, 3000)
        rows.append(
            TokenUsage(
                id=uuid.uuid4(),
                source=source,
                source_id=str(i),
                source_name=rng.choice(names[source]),
                input_tokens=inp,
                output_tokens=out,
                cost_usd=inp * 3e-6 + out * 15e-6,
                duration_ms=rng.randint(800, 40000),
                num_turns=rng.randint(1, 8) if source == "agent" else None,
                created_at=when,
            )
        )
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()
        db.session.remove()


def test_usage_page_with_seeded_records(page, app, user):
    seed_usage(app)
    browser_sign_in(page, target="/usage")
    page.wait_for_selector("#usage-table tbody tr td.num")
    page.wait_for_function("document.getElementById('stat-calls').textContent !== '–'")
    assert page.locator("#usage-period [data-period='7d']").get_attribute("aria-checked") == "true"
    assert int(page.inner_text("#stat-calls").replace(",", "")) > 0
    assert page.locator("#consumer-list .consumer").count() >= 5
    assert page.locator("#source-legend li").count() == 3
    page.wait_for_timeout(200)
    screenshot(page, "usage-7d")

    page.click("#usage-period [data-period='30d']")
    page.wait_for_function("document.getElementById('pager-info').textContent.includes('420')")
    page.wait_for_timeout(200)
    screenshot(page, "usage-30d")

    page.select_option("#usage-source", "agent")
    page.wait_for_function(
        "[...document.querySelectorAll('#usage-table tbody .badge')]"
        ".every(b => b.textContent === 'Agent')"
    )
    page.fill("#usage-search", "digest")
    page.wait_for_function(
        "[...document.querySelectorAll('#usage-table tbody .record-name')]"
        ".every(c => c.textContent === 'Morning digest')"
    )
    page.click("#pager-next")
    page.wait_for_function("document.getElementById('pager-info').textContent.startsWith('Page 2')")

    page.click("#usage-period [data-period='24h']")
    page.wait_for_function(
        "document.querySelector('#usage-granularity [data-granularity=hourly]')"
        ".classList.contains('active')"
    )
    page.wait_for_timeout(200)
    screenshot(page, "usage-24h-hourly")

    from cognova.services import settings

    with app.app_context():
        assert settings.get(user.id, "ui.usage.period") == "24h"
        db.session.remove()
