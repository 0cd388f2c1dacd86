"""The public page of a shared document: /view/<id> (API.md §22), readable signed out."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request

from cognova.extensions import db
from cognova.models.documents import Document
from cognova.security import resolve
from cognova.services import documents, markdown_render

bp = Blueprint("view_pages", __name__)

PUBLIC_ENDPOINTS = {"view_pages.view_document", "view_pages.view_document_raw"}


def _ident(doc_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(doc_id)
    except ValueError:
        abort(404)


def _robots(response: Response, private: bool) -> Response:
    if private:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/view/<doc_id>")
def view_document(doc_id: str):
    ident = _ident(doc_id)
    is_owner = resolve().user is not None
    shared = documents.public_view(ident, is_owner=is_owner)
    data = shared.data
    rendered = None
    if data["document"]["kind"] == "markdown":
        rendered = markdown_render.render(data["content"] or "", data["document"]["title"])
    html = render_template(
        "view/document.html",
        title=data["document"]["title"],
        doc=data["document"],
        content=data["content"],
        rendered=rendered,
        is_owner=is_owner,
        private=shared.private,
        edit_url="/documents?path=" + quote(data["document"]["path"], safe=""),
    )
    return _robots(Response(html, mimetype="text/html"), shared.private)


@bp.get("/view/<doc_id>/raw")
def view_document_raw(doc_id: str):
    """The file itself: markdown/text as plain text, ``?download=1`` as an attachment."""
    ident = _ident(doc_id)
    shared = documents.public_view(ident, is_owner=resolve().user is not None)
    row = db.session.get(Document, ident)
    data = documents.raw_bytes(row)
    document = shared.data["document"]
    download = request.args.get("download") in ("1", "true")
    if document["kind"] == "binary":
        mimetype = document["mimeType"] or "application/octet-stream"
    else:
        mimetype = "text/plain; charset=utf-8"
    response = Response(data, mimetype=mimetype)
    name = document["path"].rsplit("/", 1)[-1]
    disposition = "attachment" if download or document["kind"] == "binary" else "inline"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    # whatever the file holds, the browser must not run it as a page of this site
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _robots(response, shared.private)
