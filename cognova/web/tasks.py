"""The tasks page: list, filters and the slide-over editor (deep links ?selected=, ?action=new)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("tasks_pages", __name__)


@bp.get("/tasks")
def tasks():
    return render_template("tasks/index.html", active="/tasks")
