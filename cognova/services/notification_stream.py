"""The relay side of resource_change events (API.md §17): one Redis subscription per open stream.

``cognova.services.notifications`` publishes every committed change to one Redis pub/sub channel,
from whichever process made it (web, worker, clock). Each open stream subscribes to that channel
*before* it announces ``connected``, so a client that has seen ``connected`` receives every later
event exactly once, and nothing from before. Events are not stored: a reconnecting client starts
afresh, as the contract says.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import redis as redis_lib

from cognova.services.notifications import timestamp

log = logging.getLogger(__name__)

RETRY_MS = 3000
KEEP_ALIVE = ": keep-alive\n\n"
SUBSCRIBE_TIMEOUT = 5.0
REDIS_ERRORS = (redis_lib.RedisError, OSError)


def frame(event: str, data: dict, event_id: str | None = None) -> str:
    """One SSE message. JSON has no raw newlines, so ``data`` always fits on one line."""
    head = f"id: {event_id}\n" if event_id else ""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"{head}event: {event}\ndata: {body}\n\n"


def connected_frame() -> str:
    return frame(
        "connected",
        {
            "type": "connected",
            "message": "Notification stream connected",
            "timestamp": timestamp(),
        },
    )


def event_frame(payload: dict) -> str:
    """A published payload carries its event id; it goes on the ``id:`` line, not in the data."""
    data = {k: v for k, v in payload.items() if k != "id"}
    return frame(data.get("type") or "resource_change", data, payload.get("id"))


class Subscription:
    """A pub/sub subscription to one channel, ready once ``open`` returns."""

    def __init__(self, client: redis_lib.Redis, channel: str):
        self.channel = channel
        self.pubsub = client.pubsub(ignore_subscribe_messages=False)

    def open(self, timeout: float = SUBSCRIBE_TIMEOUT) -> None:
        """Subscribe and wait for Redis to confirm it, so no later event can be missed."""
        self.pubsub.subscribe(self.channel)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise redis_lib.TimeoutError("no subscribe confirmation")
            message = self.pubsub.get_message(timeout=remaining)
            if message is not None and message["type"] == "subscribe":
                return

    def next_event(self, timeout: float) -> dict | None:
        """The next published payload, or None when *timeout* passes without one."""
        message = self.pubsub.get_message(timeout=max(timeout, 0.0))
        if message is None or message["type"] != "message":
            return None
        try:
            payload = json.loads(message["data"])
        except (TypeError, ValueError):
            log.warning("ignoring a malformed notification on %s", self.channel)
            return None
        return payload if isinstance(payload, dict) else None

    def close(self) -> None:
        try:
            self.pubsub.close()
        except REDIS_ERRORS:
            log.debug("closing a notification subscription failed", exc_info=True)


def relay(
    client: redis_lib.Redis,
    channel: str,
    keepalive: float,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """The text of one notification stream, until the client goes away or Redis fails.

    The server notices a vanished client only when a write fails, which the keep-alive
    guarantees within one interval; the generator is then closed and the subscription with it.
    When Redis fails the stream simply ends: the browser reconnects after ``retry``.
    """
    subscription = Subscription(client, channel)
    try:
        try:
            subscription.open()
        except REDIS_ERRORS:
            log.warning("notification stream: cannot subscribe to %s", channel)
            yield f"retry: {RETRY_MS}\n\n"
            return
        yield f"retry: {RETRY_MS}\n\n"
        yield connected_frame()
        next_beat = clock() + keepalive
        while True:
            wait = next_beat - clock()
            if wait <= 0:
                yield KEEP_ALIVE
                next_beat = clock() + keepalive
                continue
            try:
                payload = subscription.next_event(wait)
            except REDIS_ERRORS:
                log.warning("notification stream: lost the subscription to %s", channel)
                return
            if payload is not None:
                yield event_frame(payload)
    finally:
        subscription.close()
