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
