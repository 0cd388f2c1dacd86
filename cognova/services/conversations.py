"""Conversations (API.md §9): list, read, rename, delete and export. Turns live in ``chat``."""

from __future__ import annotations

import json
import re
import uuid

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.conversations import Conversation, ConversationMessage
from cognova.schemas.conversations import ConversationOut, MessageOut
from cognova.services import chat
from cognova.services.errors import NotFound
from cognova.services.notifications import notify
from cognova.services.query import Page, paginate

NOT_FOUND = "Conversation not found"


def get(cid: uuid.UUID) -> Conversation:
    row = db.session.get(Conversation, cid)
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def serialize(row: Conversation) -> dict:
    return ConversationOut.model_validate(row).model_dump(mode="json", by_alias=True)


def serialize_message(row: ConversationMessage) -> dict:
    return MessageOut.model_validate(
        {
            "id": row.id,
            "conversation_id": row.conversation_id,
            "role": row.role,
            "content": chat.parse_blocks(row.content),
            "cost_usd": row.cost_usd,
            "duration_ms": row.duration_ms,
            "created_at": row.created_at,
        }
    ).model_dump(mode="json", by_alias=True)


def messages(cid: uuid.UUID) -> list[ConversationMessage]:
    return list(
        db.session.scalars(
            sa.select(ConversationMessage)
            .where(ConversationMessage.conversation_id == cid)
            .order_by(ConversationMessage.created_at, ConversationMessage.id)
        )
    )


def detail(cid: uuid.UUID) -> dict:
    row = get(cid)
    return {**serialize(row), "messages": [serialize_message(m) for m in messages(cid)]}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_conversations(search: str | None, status: str | None, page: int, limit: int) -> Page:
    stmt = sa.select(Conversation)
    if search:
        stmt = stmt.where(Conversation.title.ilike(f"%{_escape_like(search)}%", escape="\\"))
    if status:
        stmt = stmt.where(Conversation.status == status)
    stmt = stmt.order_by(Conversation.started_at.desc(), Conversation.id)
    return paginate(stmt, page, limit)


def rename(cid: uuid.UUID, title: str) -> Conversation:
    row = get(cid)
    row.title = title
    notify("conversation", "edit", row.id, title)
    return row


def delete(cid: uuid.UUID) -> None:
    """Interrupt a running turn first (its worker sees the flag), then hard-delete."""
    row = get(cid)
    if row.status == "streaming":
        chat.request_cancel(cid)
    notify("conversation", "delete", row.id, row.title)
    db.session.delete(row)


# ----------------------------------------------------------------- export


def slug(title: str | None, cid) -> str:
    text = re.sub(r"[^0-9a-z]+", "-", (title or "").lower()).strip("-")
    text = text[:60].strip("-")
    return text or f"conversation-{cid}"


def _fence(text: str, info: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _result_text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b.get("text", "") if isinstance(b, dict) and b.get("type") == "text" else json.dumps(b)
            for b in content
        )
    return json.dumps(content)


def to_markdown(data: dict) -> str:
    parts = [f"# {data['title'] or 'Conversation'}"]
    for message in data["messages"]:
        who = "User" if message["role"] == "user" else "Assistant"
        parts.append(f"## {who} — {message['createdAt']}")
        for block in message["content"]:
            kind = block.get("type")
            if kind == "text":
                parts.append(block.get("text", ""))
            elif kind == "tool_use":
                args = json.dumps(block.get("input", {}), indent=2, ensure_ascii=False)
                parts.append(f"**Tool: {block.get('name')}**\n\n{_fence(args, 'json')}")
            elif kind == "tool_result":
                label = "Tool result (error)" if block.get("is_error") else "Tool result"
                parts.append(f"**{label}**\n\n{_fence(_result_text(block.get('content')))}")
            else:
                parts.append(_fence(json.dumps(block, indent=2, ensure_ascii=False), "json"))
    return "\n\n".join(parts) + "\n"


def export(cid: uuid.UUID, fmt: str) -> tuple[str, str, str]:
    """(body, content type, file name)."""
    data = detail(cid)
    name = slug(data["title"], data["id"])
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return body, "application/json", f"{name}.json"
    return to_markdown(data), "text/markdown; charset=utf-8", f"{name}.md"
