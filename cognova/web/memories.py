"""The memories page: the memory table, and a preview of the context Claude gets next."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from cognova.extensions import db
from cognova.services import memory

bp = Blueprint("memories_pages", __name__)


@bp.get("/memories")
def memories_page():
    return render_template("memories/index.html", active="/memories")


@bp.get("/memories/preview")
def context_preview():
    """The exact text ``/api/memory/context`` would give now, without counting it as access
    (looking at the preview is not Claude using the memories)."""
    project = (request.args.get("project") or "").strip() or None
    try:
        limit = min(max(int(request.args.get("limit", 5)), 1), 20)
    except ValueError:
        limit = 5
    rows = memory.select_context(project, limit)
    text = memory.format_context(rows)
    db.session.rollback()
    return Response(text, mimetype="text/plain")
