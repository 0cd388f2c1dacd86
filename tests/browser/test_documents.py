"""The documents workspace, the public view page and the search palette, in Chromium."""

from __future__ import annotations

import pytest

from tests.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.browser


def create_note(page, name):
    page.click(".docs-tree-head [data-docs=new-note]")
    page.fill("#docs-new-name", name)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#docs-title:text('{name}')")


def set_visibility(page, value):
    with page.expect_response(lambda r: r.request.method == "PUT" and r.status == 200):
        page.click(f"#meta-visibility label:has(input[value={value}])")


def test_create_a_note_and_autosave(page, user, app):
    vault = app.config["VAULT_PATH"]
    (vault / "projects").mkdir()
    (vault / "projects" / "plan.md").write_text("---\ntitle: Plan\ntags: [work]\n---\n# Plan\n")
    browser_sign_in(page, target="/documents")
    page.wait_for_selector(".tree-row[data-path='projects']")
    create_note(page, "Browser note")
    assert (vault / "Browser note.md").exists()
    editor = page.locator("#docs-body")
    editor.click()
    page.keyboard.press("End")
    editor.press_sequentially("Typed in the browser.", delay=5)
    status = page.locator("#save-status")
    assert status.get_attribute("data-state") in ("unsaved", "saving", "saved")
    page.wait_for_selector("#save-status[data-state=saved]")
    page.wait_for_function("document.querySelector('#save-status').textContent === 'Saved'")
    assert "Typed in the browser." in (vault / "Browser note.md").read_text()

    # Ctrl+S saves at once
    editor.press_sequentially(" More.", delay=5)
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "document.querySelector('#save-status').dataset.state === 'saved'", timeout=5000
    )
    assert (vault / "Browser note.md").read_text().endswith("More.")

    # tags through the metadata panel land in the frontmatter
    page.fill("#meta-tags", "browser, test")
    page.locator("#meta-tags").press("Tab")
    page.wait_for_function("document.querySelector('#save-status').dataset.state === 'saved'")
    page.wait_for_timeout(200)
    assert "- browser" in (vault / "Browser note.md").read_text()
    page.click("[data-mode=split]")
    page.wait_for_selector("#docs-preview h1")
    screenshot(page, "documents-workspace")

    # open the other note from the tree
    page.click(".tree-row[data-path='projects']")
    page.click(".tree-row[data-path='projects/plan.md']")
    page.wait_for_selector("#docs-title:text('Plan')")
    assert page.input_value("#meta-tags") == "work"


def test_drag_a_note_into_a_folder(page, user, app):
    vault = app.config["VAULT_PATH"]
    (vault / "archive").mkdir()
    (vault / "loose.md").write_text("# Loose")
    browser_sign_in(page, target="/documents")
    page.wait_for_selector(".tree-row[data-path='loose.md']")
    page.drag_and_drop(".tree-row[data-path='loose.md']", ".tree-row[data-path='archive']")
    page.wait_for_selector(".tree-row[data-path='archive/loose.md']", state="attached")
    assert (vault / "archive" / "loose.md").exists()
    assert not (vault / "loose.md").exists()


def test_share_and_open_the_public_page_signed_out(page, user, browser, live_server, app):
    browser_sign_in(page, target="/documents")
    create_note(page, "Shared note")
    editor = page.locator("#docs-body")
    editor.click()
    page.keyboard.press("End")
    editor.press_sequentially(
        "## Part one\n\nHello <script>window.pwned=1</script>\n\n## Part two\n"
    )
    page.wait_for_function("document.querySelector('#save-status').dataset.state === 'saved'")
    set_visibility(page, "private")
    page.wait_for_selector("#share-link:not([hidden])")
    url = page.input_value("#share-url")
    assert "/view/" in url

    signed_out = browser.new_context(base_url=live_server.url)
    visitor = signed_out.new_page()
    try:
        response = visitor.goto(url)
        assert response.status == 200
        assert response.headers.get("x-robots-tag") == "noindex"
        assert visitor.locator("meta[name=robots]").get_attribute("content") == "noindex"
        assert visitor.locator(".view-title").inner_text() == "Shared note"
        assert visitor.locator(".view-toc a").count() >= 2
        assert visitor.evaluate("window.pwned") is None
        assert "<script>" in visitor.locator(".view-body").inner_text()
        assert visitor.locator("[data-view=edit]").count() == 0
        screenshot(visitor, "view-private")
        set_visibility(page, "public")
        page.wait_for_function("document.querySelector('#save-status').dataset.state === 'saved'")
        response = visitor.goto(url)
        assert response.headers.get("x-robots-tag") is None
        assert visitor.locator("meta[name=robots]").count() == 0
        source = visitor.goto(url + "/raw")
        assert source.headers["content-type"].startswith("text/plain")
        owner_tab = page.context.new_page()  # signed in: the owner gets an edit link
        owner_tab.goto(url)
        assert owner_tab.locator("[data-view=edit]").count() == 1
        screenshot(owner_tab, "view-public-owner")
        owner_tab.close()
        set_visibility(page, "hidden")
        page.wait_for_function("document.querySelector('#save-status').dataset.state === 'saved'")
        assert visitor.goto(url).status == 403
    finally:
        signed_out.close()


def test_find_a_note_through_the_palette(page, user, app):
    vault = app.config["VAULT_PATH"]
    (vault / "recipes").mkdir()
    (vault / "recipes" / "bread.md").write_text("# Sourdough bread\n\nFeed the starter overnight.")
    browser_sign_in(page)
    page.goto("/documents?path=recipes/bread.md")  # opening it syncs the row
    page.wait_for_selector("#docs-title:text('Sourdough bread')")
    page.goto("/")
    page.keyboard.press("Control+k")
    page.fill(".palette-input", "starter")
    item = page.locator(".palette-item").first
    item.wait_for()
    assert "Sourdough bread" in item.inner_text()
    assert page.locator(".palette-item mark").first.inner_text().lower() == "starter"
    screenshot(page, "search-palette")
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents?path=recipes%2Fbread.md")
    page.wait_for_selector("#docs-title:text('Sourdough bread')")
    # the top bar button opens it too
    page.click("[data-action=open-search]")
    page.wait_for_selector(".palette-overlay:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector(".palette-overlay", state="hidden")
