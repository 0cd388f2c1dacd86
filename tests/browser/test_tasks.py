"""The tasks and projects pages, driven through Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_sign_in, screenshot

pytestmark = pytest.mark.browser


def make_task(api, **fields) -> dict:
    response = api.post("/api/tasks", json=fields)
    assert response.status_code == 201, response.json
    return response.json["data"]


def make_project(api, name, color) -> dict:
    response = api.post("/api/projects", json={"name": name, "color": color})
    assert response.status_code == 201, response.json
    return response.json["data"]


def open_tasks(page, target="/tasks"):
    browser_sign_in(page, target=target)
    expect(page.locator("#task-summary")).not_to_have_text("Loading…")


def test_create_edit_complete_delete_and_restore_a_task(page, api):
    project = make_project(api, "Home", "#22c55e")
    open_tasks(page)
    expect(page.locator("#task-empty")).to_be_visible()
    screenshot(page, "tasks-empty")

    page.click("#new-task")
    form = page.locator("#task-form")
    expect(page.locator("#task-panel")).to_be_visible()
    form.locator("input[name=title]").fill("Water the plants")
    form.locator("textarea[name=description]").fill("Use the **blue** can\n\n- ferns\n- basil")
    form.locator(".tab[data-tab=preview]").click()
    expect(page.locator("#description-preview strong")).to_have_text("blue")
    form.locator("label:has(input[name=priority][value='3'])").click()
    form.locator("select[name=projectId]").select_option(project["id"])
    form.locator("input[name=dueDay]").fill(datetime.now().strftime("%Y-%m-%d"))
    page.fill("#tag-entry", "home")
    page.press("#tag-entry", "Enter")
    page.fill("#tag-entry", "weekly")
    page.press("#tag-entry", "Enter")
    screenshot(page, "tasks-new")
    page.click("#task-save")

    row = page.locator(".task-row", has_text="Water the plants")
    expect(row).to_be_visible()
    expect(row.locator(".project-chip")).to_have_text("Home")
    expect(row.locator(".due")).to_contain_text("Today")
    expect(page.locator("#task-panel")).to_be_hidden()
    task = api.get("/api/tasks").json["data"][0]
    assert task["title"] == "Water the plants"
    assert task["priority"] == 3
    assert task["projectId"] == project["id"]
    assert task["tags"] == ["home", "weekly"]
    assert task["description"].startswith("Use the **blue** can")
    due = datetime.fromisoformat(task["dueDate"].replace("Z", "+00:00"))
    assert abs(due - datetime.now(UTC)) < timedelta(days=1)
    screenshot(page, "tasks-list")

    row.locator(".task-title").click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?selected={task['id']}")
    expect(form.locator("input[name=title]")).to_have_value("Water the plants")
    form.locator("input[name=title]").fill("Water all the plants")
    form.locator("select[name=status]").select_option("in_progress")
    page.click("#task-save")
    row = page.locator(".task-row", has_text="Water all the plants")
    expect(row.locator(".badge")).to_have_text("In progress")
    assert api.get(f"/api/tasks/{task['id']}").json["data"]["status"] == "in_progress"

    with page.expect_response(lambda r: r.request.method == "PUT" and task["id"] in r.url):
        row.locator(".task-check").click()
    expect(page.locator(".task-row.done", has_text="Water all the plants")).to_be_visible()
    done = api.get(f"/api/tasks/{task['id']}").json["data"]
    assert done["status"] == "done" and done["completedAt"] is not None

    row = page.locator(".task-row", has_text="Water all the plants")
    row.hover()
    row.locator("[data-act=delete]").click()
    expect(page.locator(".task-row", has_text="Water all the plants")).to_have_count(0)
    toast = page.locator(".toast", has_text="Task deleted")
    expect(toast).to_be_visible()
    screenshot(page, "tasks-deleted-undo")
    assert api.get(f"/api/tasks/{task['id']}").status_code == 404

    toast.locator(".toast-action", has_text="Undo").click()
    expect(page.locator(".task-row", has_text="Water all the plants")).to_be_visible()
    assert api.get(f"/api/tasks/{task['id']}").json["data"]["deletedAt"] is None


def test_filters_search_and_remembered_settings(page, api):
    project = make_project(api, "Work", "#3b82f6")
    make_task(api, title="Draft the budget", status="todo", projectId=project["id"], tags=["money"])
    make_task(api, title="File receipts", status="done", tags=["money", "admin"])
    make_task(api, title="Call the plumber", status="blocked", tags=["home"])
    open_tasks(page)
    expect(page.locator(".task-row")).to_have_count(3)

    page.click("#status-filter .chip[data-status=done]")
    expect(page.locator(".task-row")).to_have_count(1)
    expect(page.locator(".task-row")).to_contain_text("File receipts")
    page.click("#status-filter .chip[data-status=done]")
    expect(page.locator(".task-row")).to_have_count(3)

    page.select_option("#project-filter", project["id"])
    expect(page.locator(".task-row")).to_have_count(1)
    expect(page.locator(".task-row")).to_contain_text("Draft the budget")
    page.select_option("#project-filter", "")

    page.locator(".task-row .tag", has_text="#money").first.click()
    expect(page.locator(".task-row")).to_have_count(2)
    page.click("#active-tags .chip")
    expect(page.locator(".task-row")).to_have_count(3)

    page.fill("#task-search", "plumb")
    expect(page.locator(".task-row")).to_have_count(1)
    page.fill("#task-search", "")
    expect(page.locator(".task-row")).to_have_count(3)

    page.click("#status-filter .chip[data-status=blocked]")
    expect(page.locator(".task-row")).to_have_count(1)
    settings = api.get("/api/settings")
    if settings.status_code == 200:
        page.wait_for_timeout(800)  # filters are saved 400 ms after the last change
        assert api.get("/api/settings").json["data"]["ui"]["tasks"]["status"] == ["blocked"]
        page.reload()
        expect(page.locator("#status-filter .chip[data-status=blocked]")).to_have_class(
            "chip active"
        )
        expect(page.locator(".task-row")).to_have_count(1)
    screenshot(page, "tasks-filtered")


def test_deep_links_open_the_editor(page, api):
    task = make_task(api, title="Renew the passport", description="Photos first")
    open_tasks(page, f"/tasks?selected={task['id']}")
    expect(page.locator("#task-panel")).to_be_visible()
    expect(page.locator("#task-panel-title")).to_have_text("Edit task")
    expect(page.locator("#task-form input[name=title]")).to_have_value("Renew the passport")
    page.keyboard.press("Escape")
    expect(page.locator("#task-panel")).to_be_hidden()
    assert "selected" not in page.url

    page.goto("/tasks?action=new")
    expect(page.locator("#task-panel-title")).to_have_text("New task")
    expect(page.locator("#task-form input[name=title]")).to_be_focused()


def test_reminders_on_a_task(page, api):
    task = make_task(api, title="Pay the rent")
    open_tasks(page, f"/tasks?selected={task['id']}")
    expect(page.locator(".reminder-empty")).to_be_visible()
    page.fill("#reminder-message", "Transfer the rent")
    page.click("#reminder-add")
    row = page.locator(".reminder-row", has_text="Transfer the rent")
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Pending")
    reminders = api.get(f"/api/tasks/{task['id']}/reminders").json["data"]
    assert [r["message"] for r in reminders] == ["Transfer the rent"]
    before = reminders[0]["remindAt"]
    screenshot(page, "tasks-reminders")

    row.locator("select.snooze").select_option("1440")
    page.wait_for_function(
        f"fetch('/api/tasks/{task['id']}/reminders').then(r => r.json())"
        f".then(b => b.data[0].remindAt !== '{before}')"
    )
    page.locator(".reminder-row", has_text="Transfer the rent").locator(".icon-btn").click()
    expect(page.locator(".reminder-empty")).to_be_visible()
    assert api.get(f"/api/tasks/{task['id']}/reminders").json["data"] == []


def test_opening_the_panel_does_not_take_focus_from_a_field_already_chosen(page, api):
    open_tasks(page)
    expect(page.locator("#task-empty")).to_be_visible()
    # open the editor and go straight to the description, before the panel has settled
    page.evaluate(
        "document.getElementById('new-task').click();"
        "document.getElementById('task-form').elements.description.focus()"
    )
    page.keyboard.type("typed at once")
    page.wait_for_timeout(200)
    form = page.locator("#task-form")
    expect(form.locator("textarea[name=description]")).to_be_focused()
    expect(form.locator("textarea[name=description]")).to_have_value("typed at once")
    expect(form.locator("input[name=title]")).to_have_value("")


def test_projects_page_create_edit_delete_and_restore(page, api):
    browser_sign_in(page, target="/projects")
    expect(page.locator("#project-empty")).to_be_visible()
    page.click("#new-project")
    page.fill("#project-form input[name=name]", "Garden")
    page.locator("#swatches .swatch").nth(4).click()
    page.fill("#project-form textarea[name=description]", "Beds, compost and the shed.")
    page.click("#project-save")
    card = page.locator(".project-card", has_text="Garden")
    expect(card).to_be_visible()
    project = api.get("/api/projects").json["data"][0]
    assert project["color"] == "#22c55e"
    make_task(api, title="Turn the compost", projectId=project["id"])
    make_task(api, title="Oil the shears", projectId=project["id"])
    page.reload()
    expect(card.locator(".project-count")).to_have_text("2 tasks")
    screenshot(page, "projects")

    card.locator("[data-act=edit]").click()
    page.fill("#project-form input[name=name]", "Garden and yard")
    page.click("#project-save")
    expect(page.locator(".project-card h2", has_text="Garden and yard")).to_be_visible()

    page.locator(".project-card", has_text="Garden and yard").locator("[data-act=delete]").click()
    expect(page.locator(".project-card")).to_have_count(0)
    assert api.get(f"/api/projects/{project['id']}").status_code == 404
    page.check("#show-deleted")
    deleted = page.locator(".project-card.deleted", has_text="Garden and yard")
    expect(deleted).to_be_visible()
    screenshot(page, "projects-deleted")
    deleted.locator("[data-act=restore]").click()
    expect(page.locator(".project-card:not(.deleted)", has_text="Garden and yard")).to_be_visible()
    assert api.get(f"/api/projects/{project['id']}").json["data"]["deletedAt"] is None
