"""The live notification stream (API.md §17)."""

from __future__ import annotations

from flask import Response, current_app, request, stream_with_context

from cognova.api.spec import ApiBlueprint
from cognova.extensions import db, redis_client
from cognova.services import notification_stream, notifications

bp = ApiBlueprint("notifications", __name__, tag="Notifications")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.endpoint(
    "GET",
    "/notifications/stream",
    summary="Live resource_change events (Server-Sent Events)",
    content_type="text/event-stream",
    envelope="raw",
)
def notification_stream_events():
    """`retry: 3000`, a `connected` event, then one `resource_change` event per committed change
    made in any process, and a `: keep-alive` comment every 15 s. Events are not replayed."""
    if request.method == "HEAD":
        return Response(status=200, headers=SSE_HEADERS, content_type="text/event-stream")
    client, topic = redis_client(), notifications.channel()
    keepalive = current_app.config["SSE_KEEPALIVE_SECONDS"]
    # A stream may stay open for hours: give the database connection back now, not at teardown.
    db.session.close()
    body = stream_with_context(notification_stream.relay(client, topic, keepalive))
    return Response(body, status=200, headers=SSE_HEADERS, content_type="text/event-stream")
