"""Conversations (API.md §9)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Response

from cognova.api.spec import ApiBlueprint, ok, paginated
from cognova.extensions import db
from cognova.schemas.conversations import (
    ConversationDeleted,
    ConversationDetail,
    ConversationOut,
    ConversationQuery,
    ExportQuery,
    RenameBody,
)
from cognova.services import conversations

bp = ApiBlueprint("conversations", __name__, tag="Conversations")


@bp.endpoint(
    "GET",
    "/conversations",
    summary="List conversations, newest first",
    query=ConversationQuery,
    response=ConversationOut,
    envelope="paginated",
)
def list_conversations(query: ConversationQuery):
    page = conversations.list_conversations(query.search, query.status, query.page, query.limit)
    items = [conversations.serialize(row) for row in page.items]
    return paginated(items, page.page, page.limit, page.total)


@bp.endpoint(
    "GET",
    "/conversations/<id>",
    summary="A conversation with its messages",
    response=ConversationDetail,
    errors=(404,),
)
def get_conversation(id: str):
    return ok(conversations.detail(uuid.UUID(id)))


@bp.endpoint(
    "PATCH",
    "/conversations/<id>",
    summary="Rename a conversation",
    body=RenameBody,
    response=ConversationOut,
    errors=(404,),
)
def rename_conversation(id: str, body: RenameBody):
    row = conversations.rename(uuid.UUID(id), body.title)
    db.session.commit()
    return ok(conversations.serialize(row))


@bp.endpoint(
    "DELETE",
    "/conversations/<id>",
    summary="Delete a conversation (interrupting a running turn first)",
    response=ConversationDeleted,
    errors=(404,),
)
def delete_conversation(id: str):
    conversations.delete(uuid.UUID(id))
    db.session.commit()
    return ok({"id": id, "deleted": True})


@bp.endpoint(
    "GET",
    "/conversations/<id>/export",
    summary="Download a conversation as Markdown or JSON",
    query=ExportQuery,
    errors=(404,),
    envelope="raw",
    content_type="text/markdown",
)
def export_conversation(id: str, query: ExportQuery):
    body, content_type, filename = conversations.export(uuid.UUID(id), query.format)
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        body, status=200, content_type=content_type, headers={"Content-Disposition": disposition}
    )
