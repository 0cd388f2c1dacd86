"""resource_change events (API.md §17): queued on the DB session, published after commit.

``notify(...)`` may be called anywhere inside a unit of work; the event reaches Redis pub/sub
(and so every open stream, in every process) only if and when that transaction commits.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from cognova.extensions import db, redis_client, redis_key

log = logging.getLogger(__name__)

RESOURCES = (
    "task",
    "project",
    "reminder",
    "agent",
    "document",
    "memory",
    "secret",
    "hook",
    "conversation",
)
ACTIONS = ("create", "edit", "delete", "restore", "run", "cancel", "complete", "fail")
LABELS = {r: r.capitalize() for r in RESOURCES}
PAST = {
    "create": "created",
    "edit": "updated",
    "delete": "deleted",
    "restore": "restored",
    "run": "started",
    "cancel": "cancelled",
    "complete": "completed",
    "fail": "failed",
}
COLORS = {
    "create": "success",
    "restore": "success",
    "complete": "success",
    "edit": "info",
    "run": "info",
    "delete": "warning",
    "cancel": "warning",
    "fail": "error",
}
PENDING_KEY = "cognova.pending_events"


def timestamp() -> str:
    """Now, written as API.md §1.7 wants it."""
    # Imported here: cognova.api imports the services, so a module-level import would be circular.
    from cognova.api.validation import iso_ms

    return iso_ms(datetime.now(UTC))


def channel() -> str:
    return redis_key("notifications")


def build_event(resource: str, action: str, resource_id, resource_name) -> dict:
    name = None if resource_name is None else str(resource_name)[:100]
    label = LABELS[resource]
    title = f"{label} {PAST[action]}"
    message = f'{label} "{name}" was {PAST[action]}' if name else f"{label} was {PAST[action]}"
    return {
        "type": "resource_change",
        "resource": resource,
        "action": action,
        "resourceId": None if resource_id is None else str(resource_id),
        "resourceName": name,
        "title": title,
        "message": message,
        "color": COLORS[action],
        "timestamp": timestamp(),
        "id": str(uuid.uuid4()),
    }


def notify(resource: str, action: str, resource_id=None, resource_name=None) -> dict:
    """Queue one event on the current transaction; it is published after the commit."""
    if resource not in LABELS or action not in PAST:
        raise ValueError(f"unknown event {resource}/{action}")
    payload = build_event(resource, action, resource_id, resource_name)
    db.session.info.setdefault(PENDING_KEY, []).append(payload)
    return payload


def publish_now(payload: dict) -> None:
    try:
        redis_client().publish(channel(), json.dumps(payload, separators=(",", ":")))
    except Exception:
        log.warning("could not publish %s/%s", payload["resource"], payload["action"])


def publish_many(payloads: list[dict]) -> None:
    """Publish already-committed events in one round trip (fired reminders, a vault sync)."""
    if not payloads:
        return
    try:
        pipe = redis_client().pipeline(transaction=False)
        for payload in payloads:
            pipe.publish(channel(), json.dumps(payload, separators=(",", ":")))
        pipe.execute()
    except Exception:
        log.warning("could not publish %d events", len(payloads))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not current_app:
        return
    for payload in pending:
        publish_now(payload)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _transaction) -> None:
    session.info.pop(PENDING_KEY, None)
