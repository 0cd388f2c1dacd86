"""Chat turns relayed as Server-Sent Events (API.md §10)."""

from __future__ import annotations

import contextlib
import socket
import uuid

from flask import Response, current_app, g, request, stream_with_context

from cognova.api.spec import ApiBlueprint, ok
from cognova.extensions import db, redis_client
from cognova.schemas.chat import ChatBody, Interrupted, StreamQuery
from cognova.services import chat

bp = ApiBlueprint("chat", __name__, tag="Chat")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _no_delay() -> None:
    """SSE frames are small writes; Nagle's algorithm would hold each behind the last one's ACK."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def sse(turn: chat.Turn, after_seq: int) -> Response:
    _no_delay()
    client = redis_client()
    keepalive = current_app.config["SSE_KEEPALIVE_SECONDS"]
    # A stream may stay open for minutes: give the database connection back now.
    db.session.close()
    body = stream_with_context(
        chat.relay(client, turn.stream_key, turn.turn_id, after_seq, keepalive)
    )
    headers = {**SSE_HEADERS, "X-Conversation-Id": turn.conversation_id}
    return Response(body, status=200, headers=headers, content_type="text/event-stream")


@bp.endpoint(
    "POST",
    "/chat",
    summary="Send a message; the reply streams back as Server-Sent Events",
    body=ChatBody,
    errors=(404, 409, 503),
    content_type="text/event-stream",
    envelope="raw",
)
def send_message(body: ChatBody):
    """Creates the conversation when `conversationId` is absent. Events: session_created,
    stream_start, text_delta, tool_start, tool_end, then one of stream_end, interrupted, error."""
    turn = chat.start_turn(g.auth.user.id, body.message, body.conversation_id)
    return sse(turn, 0)


@bp.endpoint(
    "GET",
    "/chat/<conversationId>/stream",
    summary="Re-attach to the in-flight or most recent buffered turn",
    query=StreamQuery,
    errors=(404,),
    content_type="text/event-stream",
    envelope="raw",
)
def reattach_stream(conversationId: str, query: StreamQuery):
    """Replays after `Last-Event-ID` (header or `?lastEventId=`) when it names the buffered turn,
    else from the start; 204 when nothing is buffered."""
    turn = chat.reattach(uuid.UUID(conversationId))
    if turn is None:
        return Response(status=204)
    last_event_id = request.headers.get("Last-Event-ID") or query.last_event_id
    if request.method == "HEAD":
        return Response(status=200, headers=SSE_HEADERS, content_type="text/event-stream")
    return sse(turn, chat.after_seq_for(turn, last_event_id))


@bp.endpoint(
    "POST",
    "/chat/<conversationId>/interrupt",
    summary="Stop the running turn",
    response=Interrupted,
    errors=(404,),
)
def interrupt_turn(conversationId: str):
    chat.interrupt(uuid.UUID(conversationId))
    return ok({"conversationId": conversationId, "interrupted": True})
