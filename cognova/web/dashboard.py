"""The dashboard page; its cards are filled from GET /api/dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard_pages", __name__)


@bp.get("/")
def dashboard():
    return render_template("dashboard/index.html", active="/")
