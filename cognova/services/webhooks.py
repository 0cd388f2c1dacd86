"""Webhook delivery of fired reminders (API.md §6.1).

A POST of the JSON payload with ``X-Cognova-Event``; a network error, a 5xx or a 429 is retried
after 1 s, 5 s and 25 s (``WEBHOOK_RETRY_DELAYS`` in the app config overrides them, for tests);
any other answer is final. A delivery that ends without a 2xx is logged and pushed, newest first,
onto the Redis list ``<namespace>:webhooks:failures`` (the last ``FAILURES_KEPT`` entries), where
``failures()`` reads it; it never undoes ``notified``.
"""

from __future__ import annotations

import json
import logging
import time
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

    if user_id is None:
        user = auth.token_user()
        if user is None:
            return None
        user_id = user.id
    notifications = settings.effective(user_id).get("notifications") or {}
    url = notifications.get("webhookUrl")
    return url if isinstance(url, str) and url else None


def retry_delays() -> tuple[float, ...]:
    return tuple(current_app.config.get("WEBHOOK_RETRY_DELAYS", RETRY_DELAYS))


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def post(url: str, payload: dict, *, delays: tuple[float, ...] | None = None) -> Delivery:
    """POST *payload* to *url*, retrying transient failures; records a final failure."""
    delays = retry_delays() if delays is None else delays
    reminder_id = (payload.get("reminder") or {}).get("id")
    result = Delivery(url=url, reminder_id=reminder_id)
    headers = {"Content-Type": "application/json", "X-Cognova-Event": EVENT}
    body = json.dumps(payload, separators=(",", ":")).encode()
    client = _client()
    for attempt in range(len(delays) + 1):
        if attempt:
            time.sleep(delays[attempt - 1])
        result.attempts = attempt + 1
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            result.status, result.error = None, f"{type(exc).__name__}: {exc}"
            result.history.append(result.error)
            continue
        result.status, result.error = response.status_code, None
        result.history.append(str(response.status_code))
        if response.is_success:
            result.ok = True
            return result
        result.error = f"HTTP {response.status_code}"
        if not _retryable(response.status_code):
            break
    record_failure(result)
    return result


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
