"""The chat page: conversation list and streaming chat (the data comes from §9/§10 of the API)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("chat_pages", __name__)


@bp.get("/chat")
def chat():
    return render_template("chat/index.html", active="/chat", conversation_id=None)


@bp.get("/chat/<conversation_id>")
def conversation(conversation_id: str):
    return render_template("chat/index.html", active="/chat", conversation_id=conversation_id)
