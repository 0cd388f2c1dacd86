"""The projects page: colours, task counts, create/edit/delete/restore."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("projects_pages", __name__)


@bp.get("/projects")
def projects():
    return render_template("projects/index.html", active="/projects")
