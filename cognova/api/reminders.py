"""Reminders (API.md §6)."""

from __future__ import annotations

from cognova.api.spec import ApiBlueprint, ok, paginated
from cognova.extensions import db
from cognova.schemas.reminders import (
    Deleted,
    ReminderCreate,
    ReminderOut,
    ReminderQuery,
    ReminderUpdate,
    SnoozeBody,
)
from cognova.services import reminders

bp = ApiBlueprint("reminders", __name__, tag="Reminders")


def _json(item) -> dict:
    return item.model_dump(mode="json", by_alias=True)


@bp.endpoint(
    "GET",
    "/reminders",
    summary="List reminders",
    query=ReminderQuery,
    response=ReminderOut,
    envelope="paginated",
)
def list_reminders(query: ReminderQuery):
    page = reminders.list_reminders(query)
    return paginated([_json(item) for item in page.items], page.page, page.limit, page.total)


@bp.endpoint(
    "POST",
    "/reminders",
    summary="Create a reminder",
    body=ReminderCreate,
    response=ReminderOut,
    status=201,
)
def create_reminder(body: ReminderCreate):
    row = reminders.create_reminder(body)
    db.session.commit()
    return ok(_json(reminders.reminder_out(row.id)), 201)


@bp.endpoint(
    "GET", "/reminders/<id>", summary="Get a reminder", response=ReminderOut, errors=(404,)
)
def get_reminder(id: str):
    reminders.get_reminder(id)
    return ok(_json(reminders.reminder_out(id)))


@bp.endpoint(
    "PUT",
    "/reminders/<id>",
    summary="Update a reminder",
    body=ReminderUpdate,
    response=ReminderOut,
    errors=(404,),
)
def update_reminder(id: str, body: ReminderUpdate):
    row = reminders.update_reminder(id, body)
    db.session.commit()
    return ok(_json(reminders.reminder_out(row.id)))


@bp.endpoint(
    "DELETE", "/reminders/<id>", summary="Delete a reminder", response=Deleted, errors=(404,)
)
def delete_reminder(id: str):
    result = reminders.delete_reminder(id)
    db.session.commit()
    return ok(_json(Deleted(**result)))


@bp.endpoint(
    "POST",
    "/reminders/<id>/snooze",
    summary="Snooze a reminder",
    body=SnoozeBody,
    response=ReminderOut,
    errors=(404,),
)
def snooze_reminder(id: str, body: SnoozeBody):
    row = reminders.snooze(id, body.minutes)
    db.session.commit()
    return ok(_json(reminders.reminder_out(row.id)))
