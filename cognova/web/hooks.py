"""The hook analytics page (API.md §13): totals, tools, daily activity, sessions, events."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("hooks_pages", __name__)


@bp.get("/hooks")
def hooks_page():
    return render_template("hooks/index.html", active="/hooks")
