"""Reminder firing (a clock duty) and webhook delivery (a worker job), API.md §6.1."""

from __future__ import annotations

from rq import Queue

from cognova.clock import Duty, register
from cognova.extensions import queue
from cognova.jobs import job
from cognova.services import reminders, webhooks

# four attempts of up to 10 s each plus the 1 + 5 + 25 s of waiting, with room to spare
WEBHOOK_JOB_TIMEOUT = 120


class WebhookFailed(RuntimeError):
    """Raised so the RQ job itself ends failed (and lands in the failed-job registry)."""


@job("default", timeout=WEBHOOK_JOB_TIMEOUT)
def deliver_webhook(url: str, payload: dict) -> dict:
    result = webhooks.post(url, payload)
    if not result.ok:
        raise WebhookFailed(
            f"webhook for reminder {result.reminder_id} failed after "
            f"{result.attempts} attempt(s): {result.error}"
        )
    return {"status": result.status, "attempts": result.attempts}


def enqueue_deliveries(fired: list[reminders.Fired]) -> None:
    """One delivery job per fired reminder, enqueued in one Redis round trip."""
    url = webhooks.webhook_url()
    if not url or not fired:
        return
    spec = deliver_webhook.job_spec
    path = f"{deliver_webhook.__module__}.{deliver_webhook.__qualname__}"
    queue(spec.queue).enqueue_many(
        [
            Queue.prepare_data(
                path,
                args=(url, item.webhook_payload()),
                timeout=spec.timeout,
                result_ttl=spec.result_ttl,
                failure_ttl=spec.failure_ttl,
            )
            for item in fired
        ]
    )


def fire_reminders() -> int:
    return reminders.fire_due(enqueue_deliveries)


register(Duty("fire-reminders", 5, fire_reminders))
