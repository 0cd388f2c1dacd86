"""Reminder firing (a clock duty) and webhook delivery (a worker job), API.md §6.1."""

from __future__ import annotations

from rq import Queue

from cognova.clock import Duty, register
from cognova.extensions import queue
from cognova.jobs import job
from cognova.services import reminders, webhooks

# four attempts of up to 10 s each plus the 1 + 5 + 25 s of waiting, with room to spare
WEBHOOK_JOB_TIMEOUT = 120
# reminders per delivery job; a job POSTs them webhooks.CONCURRENCY at a time
WEBHOOK_BATCH = 50


class WebhookFailed(RuntimeError):
    """Raised so the RQ job itself ends failed (and lands in the failed-job registry)."""


def _raise_failed(results: list[webhooks.Delivery]) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        detail = "; ".join(
            f"reminder {r.reminder_id} after {r.attempts} attempt(s): {r.error}" for r in failed
        )
        raise WebhookFailed(f"{len(failed)} of {len(results)} webhook(s) failed: {detail}")


@job("default", timeout=WEBHOOK_JOB_TIMEOUT)
def deliver_webhook(url: str, payload: dict) -> dict:
    result = webhooks.post(url, payload)
    _raise_failed([result])
    return {"status": result.status, "attempts": result.attempts}


def _batch_timeout(size: int) -> int:
    """A batch's rounds of POSTs (``CONCURRENCY`` at a time) need more time than one POST."""
    rounds = -(-size // webhooks.CONCURRENCY)
    return WEBHOOK_JOB_TIMEOUT + (rounds - 1) * 4 * int(webhooks.TIMEOUT_SECONDS)


@job("default", timeout=_batch_timeout(WEBHOOK_BATCH))
def deliver_webhooks(url: str, payloads: list[dict]) -> dict:
    """Deliver a batch of fired reminders: every POST is tried; the job fails if any failed."""
    results = webhooks.post_many(url, payloads)
    _raise_failed(results)
    return {"delivered": len(results), "attempts": sum(r.attempts for r in results)}


def enqueue_deliveries(fired: list[reminders.Fired]) -> None:
    """One delivery job per batch of fired reminders, all enqueued in one Redis round trip."""
    url = webhooks.webhook_url()
    if not url or not fired:
        return
    spec = deliver_webhooks.job_spec
    path = f"{deliver_webhooks.__module__}.{deliver_webhooks.__qualname__}"
    queue(spec.queue).enqueue_many(
        [
            Queue.prepare_data(
                path,
                args=(url, [item.webhook_payload() for item in fired[i : i + WEBHOOK_BATCH]]),
                timeout=spec.timeout,
                result_ttl=spec.result_ttl,
                failure_ttl=spec.failure_ttl,
            )
            for i in range(0, len(fired), WEBHOOK_BATCH)
        ]
    )


def fire_reminders() -> int:
    return reminders.fire_due(enqueue_deliveries)


register(Duty("fire-reminders", 5, fire_reminders))
