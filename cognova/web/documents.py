"""The documents workspace: file tree, editor with autosave, metadata and sharing panel."""

from __future__ import annotations

from flask import Blueprint, render_template, request

bp = Blueprint("documents_pages", __name__)


@bp.get("/documents")
def documents_workspace():
    return render_template(
        "documents/index.html",
        title="Documents",
        active="/documents",
        initial_path=request.args.get("path", ""),
    )
