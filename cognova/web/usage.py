"""The usage page: cost and token analytics over the ledger (API.md §15)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("usage_pages", __name__)


@bp.get("/usage")
def usage_page():
    return render_template("usage/index.html", active="/usage")
