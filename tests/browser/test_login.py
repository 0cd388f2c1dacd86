import pytest

from tests.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.browser


def test_sign_in_through_the_form_lands_on_the_dashboard(page, user):
    page.goto("/")
    page.wait_for_url("**/login?redirect=/")
    screenshot(page, "login")
    browser_sign_in(page)
    assert page.locator("h1").first.inner_text().startswith("Good to see you")
    screenshot(page, "dashboard")


def test_the_layout_works_on_a_phone_in_dark_mode(browser, live_server, user):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, color_scheme="dark"
    )
    tab = context.new_page()
    try:
        browser_sign_in(tab)
        sidebar = tab.locator("#sidebar")
        assert not sidebar.is_visible() or sidebar.bounding_box()["x"] < 0
        tab.click("[data-action=toggle-nav]")
        tab.wait_for_timeout(300)
        assert sidebar.bounding_box()["x"] >= 0
        screenshot(tab, "dashboard-phone-dark")
    finally:
        context.close()


def test_a_wrong_password_shows_an_error_and_stays_on_the_login(page, user):
    page.goto("/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    error = page.locator(".form-error")
    error.wait_for(state="visible")
    assert "Invalid email or password" in error.inner_text()
    assert "/login" in page.url
