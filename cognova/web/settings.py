"""The settings page: tabs for the account, the secrets store and app preferences."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from cognova.services.settings import DEFAULTS

bp = Blueprint("settings_pages", __name__)

TABS = (("account", "Account"), ("secrets", "Secrets"), ("app", "App"))

# Columns of the notification grid: every action any resource has, in a stable order.
ACTIONS = ("create", "edit", "delete", "restore", "complete", "run", "fail", "cancel")
RESOURCE_LABELS = {
    "task": "Tasks",
    "project": "Projects",
    "reminder": "Reminders",
    "agent": "Agents",
    "document": "Documents",
    "memory": "Memories",
    "secret": "Secrets",
    "hook": "Hook events",
    "conversation": "Conversations",
}
MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")


@bp.get("/settings")
def settings_page():
    tab = request.args.get("tab", "account")
    if tab not in dict(TABS):
        tab = "account"
    preferences = DEFAULTS["notifications"]["preferences"]
    return render_template(
        "settings/index.html",
        active="/settings",
        tab=tab,
        tabs=TABS,
        actions=ACTIONS,
        resources=[(key, RESOURCE_LABELS[key], list(flags)) for key, flags in preferences.items()],
        models=MODELS,
    )
