"""Tasks (API.md §5)."""

from __future__ import annotations

from flask import g

from cognova.api.spec import ApiBlueprint, ok, paginated_json
from cognova.extensions import db
from cognova.schemas.reminders import ReminderOut
from cognova.schemas.tasks import TaskCreate, TaskOneQuery, TaskOut, TaskQuery, TaskUpdate
from cognova.services import reminders, tasks

bp = ApiBlueprint("tasks", __name__, tag="Tasks")


def _json(item) -> dict:
    return item.model_dump(mode="json", by_alias=True)


def _actor() -> str:
    return g.auth.user.id


@bp.endpoint(
    "GET",
    "/tasks",
    summary="List tasks",
    query=TaskQuery,
    response=TaskOut,
    envelope="paginated",
)
def list_tasks(query: TaskQuery):
    data, total = tasks.list_tasks_json(query)
    return paginated_json(data, query.page, query.limit, total)


@bp.endpoint(
    "POST", "/tasks", summary="Create a task", body=TaskCreate, response=TaskOut, status=201
)
def create_task(body: TaskCreate):
    row = tasks.create_task(body, _actor())
    db.session.commit()
    return ok(_json(tasks.task_out(row.id)), 201)


@bp.endpoint(
    "GET",
    "/tasks/tags",
    summary="Distinct tags of live tasks",
    response={"type": "array", "items": {"type": "string"}},
)
def list_task_tags():
    return ok(tasks.tag_list())


@bp.endpoint(
    "GET", "/tasks/<id>", summary="Get a task", query=TaskOneQuery, response=TaskOut, errors=(404,)
)
def get_task(id: str, query: TaskOneQuery):
    return ok(_json(tasks.get_task_out(id, include_deleted=query.include_deleted)))


@bp.endpoint(
    "PUT", "/tasks/<id>", summary="Update a task", body=TaskUpdate, response=TaskOut, errors=(404,)
)
def update_task(id: str, body: TaskUpdate):
    row = tasks.update_task(id, body, _actor())
    db.session.commit()
    return ok(_json(tasks.task_out(row.id)))


@bp.endpoint("DELETE", "/tasks/<id>", summary="Delete a task", response=TaskOut, errors=(404,))
def delete_task(id: str):
    row = tasks.delete_task(id, _actor())
    db.session.commit()
    return ok(_json(tasks.task_out(row.id)))


@bp.endpoint(
    "POST",
    "/tasks/<id>/restore",
    summary="Restore a deleted task",
    response=TaskOut,
    errors=(404,),
)
def restore_task(id: str):
    row = tasks.restore_task(id, _actor())
    db.session.commit()
    return ok(_json(tasks.task_out(row.id)))


@bp.endpoint(
    "GET",
    "/tasks/<id>/reminders",
    summary="A task's reminders",
    response=[ReminderOut],
    errors=(404,),
)
def list_task_reminders(id: str):
    return ok([_json(item) for item in reminders.for_task(id)])
