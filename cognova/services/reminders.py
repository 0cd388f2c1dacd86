"""Reminders (API.md §6): CRUD, snooze, and firing due reminders exactly once (§6.1).

Firing is claim-then-announce. Due reminders are claimed a batch at a time by one statement:
an ``UPDATE ... SET notified = true`` over the due rows picked with ``FOR UPDATE SKIP LOCKED``
and re-checked for ``notified = false``; only the transaction that changed a row goes on, so
any number of clocks fire each reminder once. The claimed ids are written to a Redis outbox
before the commit and removed once their events and webhook jobs are out; a clock that died
between the commit and that point leaves them in the outbox, and a later tick finishes the job
for the rows the database says were claimed (and drops the rest, whose claim never committed).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from cognova.api.validation import iso_ms
from cognova.extensions import db, redis_client, redis_key
from cognova.models import Reminder, Task
from cognova.schemas.reminders import (
    ReminderCreate,
    ReminderOut,
    ReminderQuery,
    ReminderUpdate,
    TaskRef,
)
from cognova.services import query
from cognova.services.errors import Invalid, NotFound, field_error
from cognova.services.notifications import build_event, notify, publish_many

log = logging.getLogger(__name__)

BATCH = 500
# an outbox entry younger than this may belong to a clock that is still mid-batch
OUTBOX_GRACE_SECONDS = 60


# ------------------------------------------------------------------ reading


def _joined() -> sa.Select:
    return sa.select(Reminder, Task.title).outerjoin(Task, Task.id == Reminder.task_id)


def _out(row) -> ReminderOut:
    reminder, task_title = row
    task = None
    if reminder.task_id is not None and task_title is not None:
        task = TaskRef(id=reminder.task_id, title=task_title)
    return ReminderOut(
        id=reminder.id,
        task_id=reminder.task_id,
        task=task,
        message=reminder.message,
        remind_at=reminder.remind_at,
        notified=reminder.notified,
        status="sent" if reminder.notified else "pending",
        created_at=reminder.created_at,
    )


def to_out(stmt: sa.Select) -> list[ReminderOut]:
    return [_out(row) for row in db.session.execute(stmt)]


def get_reminder(reminder_id) -> Reminder:
    return query.get_or_404(Reminder, reminder_id, message="Reminder not found")


def reminder_out(reminder_id) -> ReminderOut:
    found = to_out(_joined().where(Reminder.id == reminder_id))
    if not found:
        raise NotFound("Reminder not found")
    return found[0]


def list_reminders(params: ReminderQuery) -> query.Page:
    where = sa.true()
    conditions = []
    if params.task_id is not None:
        conditions.append(Reminder.task_id == params.task_id)
    if params.status is not None:
        conditions.append(Reminder.notified.is_(params.status == "sent"))
    if params.from_ is not None:
        conditions.append(Reminder.remind_at >= params.from_)
    if params.to is not None:
        conditions.append(Reminder.remind_at < params.to)
    if conditions:
        where = sa.and_(*conditions)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Reminder).where(where)) or 0
    offset = (params.page - 1) * params.limit
    items: list[ReminderOut] = []
    if offset < total:
        stmt = _joined().where(where).order_by(Reminder.remind_at, Reminder.created_at, Reminder.id)
        items = to_out(stmt.limit(params.limit).offset(offset))
    return query.Page(items, params.page, params.limit, total)


def for_task(task_id) -> list[ReminderOut]:
    """A task's reminders by ``remindAt``; a soft-deleted task still answers."""
    query.get_or_404(Task, task_id, include_deleted=True, message="Task not found")
    stmt = _joined().where(Reminder.task_id == task_id)
    return to_out(stmt.order_by(Reminder.remind_at, Reminder.created_at, Reminder.id))


def upcoming(limit: int = 5) -> list[ReminderOut]:
    """Unsent reminders whose task is not deleted, soonest (so overdue) first."""
    stmt = (
        _joined()
        .where(Reminder.notified.is_(False), Task.deleted_at.is_(None))
        .order_by(Reminder.remind_at, Reminder.created_at, Reminder.id)
        .limit(limit)
    )
    return to_out(stmt)


# ------------------------------------------------------------------ writing


def _require_live_task(task_id: uuid.UUID | None) -> None:
    if task_id is None:
        return
    task = db.session.get(Task, task_id)
    if task is None or task.deleted_at is not None:
        raise field_error("taskId", "Task not found")


def create_reminder(data: ReminderCreate) -> Reminder:
    _require_live_task(data.task_id)
    row = Reminder(
        task_id=data.task_id,
        message=data.message,
        remind_at=data.remind_at,
        notified=False,
        created_at=datetime.now(UTC),
    )
    db.session.add(row)
    db.session.flush()
    notify("reminder", "create", row.id, row.message)
    return row


def update_reminder(reminder_id, data: ReminderUpdate) -> Reminder:
    changes = data.given()
    if not changes:
        raise Invalid("No updatable fields provided")
    row = get_reminder(reminder_id)
    if changes.get("task_id") is not None:
        _require_live_task(changes["task_id"])
    if "remind_at" in changes and changes["remind_at"] != row.remind_at:
        row.notified = False
    for name, value in changes.items():
        setattr(row, name, value)
    notify("reminder", "edit", row.id, row.message)
    return row


def delete_reminder(reminder_id) -> dict:
    row = get_reminder(reminder_id)
    notify("reminder", "delete", row.id, row.message)
    db.session.delete(row)
    return {"id": row.id, "deleted": True}


def snooze(reminder_id, minutes: int) -> Reminder:
    row = get_reminder(reminder_id)
    row.remind_at = datetime.now(UTC) + timedelta(minutes=minutes)
    row.notified = False
    notify("reminder", "edit", row.id, row.message)
    return row


# ------------------------------------------------------------------ firing


@dataclass(frozen=True)
class Fired:
    id: uuid.UUID
    message: str
    remind_at: datetime
    task_id: uuid.UUID | None
    task_title: str | None
    fired_at: datetime

    def webhook_payload(self) -> dict:
        """The JSON body of §6.1."""
        task = None
        if self.task_id is not None and self.task_title is not None:
            task = {"id": str(self.task_id), "title": self.task_title}
        return {
            "event": "reminder.fired",
            "firedAt": iso_ms(self.fired_at),
            "reminder": {
                "id": str(self.id),
                "message": self.message,
                "remindAt": iso_ms(self.remind_at),
                "taskId": None if self.task_id is None else str(self.task_id),
            },
            "task": task,
        }


def _due(now: datetime, limit: int) -> sa.Select:
    """Due, unsent reminders whose task (if any) is not soft-deleted, oldest first."""
    # NOT EXISTS over the (few) deleted tasks, served by ix_tasks_deleted, rather than a join
    # to every task; ``NOT notified`` lets ix_reminders_pending serve the rest
    deleted_task = sa.exists().where(Task.id == Reminder.task_id, Task.deleted_at.is_not(None))
    return (
        sa.select(Reminder.id)
        .where(Reminder.remind_at <= now, sa.not_(Reminder.notified), ~deleted_task)
        .order_by(Reminder.remind_at, Reminder.id)
        .limit(limit)
    )


def _claiming(where) -> sa.Update:
    table = Reminder.__table__
    title = sa.select(Task.title).where(Task.id == table.c.task_id).scalar_subquery()
    return (
        sa.update(table)
        .where(where, sa.not_(table.c.notified))
        .values(notified=True)
        .returning(
            table.c.id, table.c.message, table.c.remind_at, table.c.task_id, title.label("title")
        )
    )


def _fired(rows) -> list[Fired]:
    at = datetime.now(UTC)
    return [Fired(r.id, r.message, r.remind_at, r.task_id, r.title, at) for r in rows]


def claim(reminder_id: uuid.UUID) -> Fired | None:
    """Mark one reminder sent; ``None`` when another process already did."""
    fired = _fired(db.session.execute(_claiming(Reminder.__table__.c.id == reminder_id)))
    return fired[0] if fired else None


def claim_due(now: datetime, limit: int = BATCH) -> list[Fired]:
    """Mark up to *limit* due reminders sent in one statement; returns those this call claimed.

    Rows another transaction holds are skipped (it is claiming them), and the outer
    ``notified = false`` re-check drops any row that was claimed and committed meanwhile.
    """
    due = _due(now, limit).with_for_update(of=Reminder, skip_locked=True).scalar_subquery()
    fired = _fired(db.session.execute(_claiming(Reminder.__table__.c.id.in_(due))))
    fired.sort(key=lambda f: (f.remind_at, f.id))
    return fired


def _outbox() -> str:
    return redis_key("reminders", "outbox")


Deliver = Callable[[list[Fired]], None]


def fire_due(deliver: Deliver, *, now: datetime | None = None, batch: int = BATCH) -> int:
    """Fire every due reminder; ``deliver`` gets each committed batch (webhook jobs).

    Returns how many reminders this process fired.
    """
    recover_outbox(deliver)
    fired_total = 0
    now = now or datetime.now(UTC)
    while True:
        fired = claim_due(now, batch)
        if not fired:
            break
        redis_client().zadd(_outbox(), {str(f.id): time.time() for f in fired})
        db.session.commit()
        # published after the commit, like notify(), but in one round trip for the batch
        publish_many([build_event("reminder", "complete", f.id, f.message) for f in fired])
        deliver(fired)
        redis_client().zrem(_outbox(), *[str(f.id) for f in fired])
        fired_total += len(fired)
    return fired_total


def recover_outbox(deliver: Deliver) -> int:
    """Finish reminders claimed by a process that stopped before announcing them."""
    client = redis_client()
    stale = client.zrangebyscore(_outbox(), "-inf", time.time() - OUTBOX_GRACE_SECONDS)
    recovered: list[Fired] = []
    for raw in stale:
        if not client.zrem(_outbox(), raw):
            continue  # another clock took it
        reminder_id = uuid.UUID(raw.decode() if isinstance(raw, bytes) else raw)
        row = db.session.get(Reminder, reminder_id)
        if row is None or not row.notified:
            continue  # the claim never committed: the reminder is still due and fires normally
        title = db.session.get(Task, row.task_id).title if row.task_id else None
        recovered.append(
            Fired(row.id, row.message, row.remind_at, row.task_id, title, datetime.now(UTC))
        )
        notify("reminder", "complete", row.id, row.message)
    if recovered:
        db.session.commit()
        deliver(recovered)
        log.warning("reminders: recovered %d fired reminders from the outbox", len(recovered))
    return len(recovered)
