"""JSON blueprints, one module per resource."""

from __future__ import annotations

import importlib

from flask import Flask

# Imported when the app is built, not when the package is, so that cognova.api.validation and
# cognova.schemas can be imported first from anywhere (Claude's tools, jobs) without a cycle.
MODULES = (
    "auth",
    "health",
    "projects",
    "tasks",
    "reminders",
    "dashboard",
    "settings",
    "secrets",
    "usage",
    "notifications",
    "agents",
    "documents",
    "fs",
    "search",
    "conversations",
    "chat",
    "memory",
    "hooks",
)


def init_app(app: Flask) -> None:
    for name in MODULES:
        module = importlib.import_module(f"cognova.api.{name}")
        app.register_blueprint(module.bp)
