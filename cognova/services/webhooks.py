"""Webhook delivery of fired reminders (API.md §6.1).

A POST of the JSON payload with ``X-Cognova-Event``, one per reminder; a network error, a 5xx or
a 429 is retried after 1 s, 5 s and 25 s (``WEBHOOK_RETRY_DELAYS`` in the app config overrides
them, for tests); any other answer is final. ``post_many`` delivers a batch: every payload is
sent (a few at a time, over the shared keep-alive client), then only the ones that failed
transiently wait for the next delay and are sent again. A delivery that ends without a 2xx is
logged and pushed, newest first, onto the Redis list ``<namespace>:webhooks:failures`` (the last
``FAILURES_KEPT`` entries), where ``failures()`` reads it; it never undoes ``notified``.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import httpx
from flask import current_app

from cognova.api.validation import iso_ms
from cognova.extensions import redis_client, redis_key

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 5.0, 25.0)
TIMEOUT_SECONDS = 10.0
FAILURES_KEPT = 200
# POSTs of one batch in flight at once
CONCURRENCY = 8
EVENT = "reminder.fired"


@dataclass
class Delivery:
    url: str
    reminder_id: str | None
    ok: bool = False
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    history: list[str] = field(default_factory=list)


_shared: httpx.Client | None = None


def _client() -> httpx.Client:
    """One pooled client per process: deliveries reuse its connections and TLS setup."""
    global _shared
    if _shared is None:
        _shared = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    return _shared


def webhook_url(user_id: str | None = None) -> str | None:
    """``notifications.webhookUrl`` of the token user's effective settings (or *user_id*'s)."""
    from cognova.services import auth, settings

    user_id = user_id or auth.token_user_id()
    if user_id is None:
        return None
    notifications = settings.effective(user_id).get("notifications") or {}
    url = notifications.get("webhookUrl")
    return url if isinstance(url, str) and url else None


def retry_delays() -> tuple[float, ...]:
    return tuple(current_app.config.get("WEBHOOK_RETRY_DELAYS", RETRY_DELAYS))


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def _attempt(url: str, body: bytes, result: Delivery) -> bool:
    """One POST; records its outcome on *result*. True when it is worth retrying."""
    headers = {"Content-Type": "application/json", "X-Cognova-Event": EVENT}
    result.attempts += 1
    try:
        response = _client().post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        result.status, result.error = None, f"{type(exc).__name__}: {exc}"
        result.history.append(result.error)
        return True
    result.status, result.error = response.status_code, None
    result.history.append(str(response.status_code))
    if response.is_success:
        result.ok = True
        return False
    result.error = f"HTTP {response.status_code}"
    return _retryable(response.status_code)


def post_many(
    url: str, payloads: list[dict], *, delays: tuple[float, ...] | None = None
) -> list[Delivery]:
    """POST each payload to *url*, retrying transient failures; records each final failure.

    Returns one ``Delivery`` per payload, in order.
    """
    delays = retry_delays() if delays is None else delays
    results = [
        Delivery(url=url, reminder_id=(payload.get("reminder") or {}).get("id"))
        for payload in payloads
    ]
    bodies = [json.dumps(payload, separators=(",", ":")).encode() for payload in payloads]
    pending = list(range(len(payloads)))
    with ThreadPoolExecutor(max_workers=max(1, min(CONCURRENCY, len(payloads)))) as pool:
        for attempt in range(len(delays) + 1):
            if attempt:
                time.sleep(delays[attempt - 1])
            retry = pool.map(lambda i: _attempt(url, bodies[i], results[i]), pending)
            pending = [i for i, again in zip(pending, list(retry), strict=True) if again]
            if not pending:
                break
    for result in results:
        if not result.ok:
            record_failure(result)
    return results


def post(url: str, payload: dict, *, delays: tuple[float, ...] | None = None) -> Delivery:
    """POST *payload* to *url*, retrying transient failures; records a final failure."""
    return post_many(url, [payload], delays=delays)[0]


def record_failure(result: Delivery) -> None:
    log.warning(
        "webhook delivery failed after %d attempt(s): reminder %s to %s: %s",
        result.attempts,
        result.reminder_id,
        result.url,
        result.error,
    )
    entry = {**asdict(result), "failedAt": iso_ms(datetime.now(UTC))}
    key = failures_key()
    pipe = redis_client().pipeline()
    pipe.lpush(key, json.dumps(entry))
    pipe.ltrim(key, 0, FAILURES_KEPT - 1)
    pipe.execute()


def failures_key() -> str:
    return redis_key("webhooks", "failures")


def failures(limit: int = FAILURES_KEPT) -> list[dict]:
    """Recorded failed deliveries, newest first."""
    return [json.loads(raw) for raw in redis_client().lrange(failures_key(), 0, limit - 1)]
