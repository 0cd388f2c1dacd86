"""Tasks (API.md §5): filters, sorting, the completion rule, tags and soft delete.

Tags are a ``text[]``; the tag filter is array containment (``tags @> ARRAY[...]``) so the GIN
index ``ix_tasks_tags`` answers it. The search term is a case-insensitive substring of title or
description, served by the trigram indexes of migration 0003.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from cognova.extensions import db
from cognova.models import Project, Task, User
from cognova.schemas.projects import ProjectRef
from cognova.schemas.tasks import DEFAULT_ORDER, Creator, TaskCreate, TaskOut, TaskQuery, TaskUpdate
from cognova.services import query
from cognova.services.errors import Invalid, NotFound
from cognova.services.notifications import notify
from cognova.services.projects import like_pattern, require_live_project

DONE = "done"


# ------------------------------------------------------------------ reading


def joined() -> sa.Select:
    """Tasks with the two objects every Task carries: its project ref and its creator."""
    return (
        sa.select(Task, Project.name, Project.color, User.name)
        .outerjoin(Project, Project.id == Task.project_id)
        .outerjoin(User, User.id == Task.created_by)
    )


def _out(row) -> TaskOut:
    task, project_name, project_color, creator_name = row
    out = TaskOut.model_validate(
        {
            "id": task.id,
            "title": task.title,
            "description": task.description,
            "status": task.status,
            "priority": task.priority,
            "project_id": task.project_id,
            "project": None,
            "due_date": task.due_date,
            "tags": list(task.tags or []),
            "completed_at": task.completed_at,
            "created_at": task.created_at,
            "modified_at": task.modified_at,
            "deleted_at": task.deleted_at,
            "created_by": task.created_by,
            "modified_by": task.modified_by,
            "deleted_by": task.deleted_by,
            "creator": None,
        }
    )
    if task.project_id is not None and project_name is not None:
        out.project = ProjectRef(id=task.project_id, name=project_name, color=project_color)
    if task.created_by is not None and creator_name is not None:
        out.creator = Creator(id=task.created_by, name=creator_name)
    return out


def to_out(stmt: sa.Select) -> list[TaskOut]:
    return [_out(row) for row in db.session.execute(stmt)]


def get_task(task_id, *, include_deleted: bool = False) -> Task:
    return query.get_or_404(
        Task, task_id, include_deleted=include_deleted, message="Task not found"
    )


def task_out(task_id) -> TaskOut:
    """The Task object of one row, whether or not it is deleted."""
    found = to_out(joined().where(Task.id == task_id))
    if not found:
        raise NotFound("Task not found")
    return found[0]


def get_task_out(task_id, *, include_deleted: bool = False) -> TaskOut:
    get_task(task_id, include_deleted=include_deleted)
    return task_out(task_id)


def filtered(params: TaskQuery, base: sa.Select | None = None) -> sa.Select:
    """The WHERE clause of a task list, applied to *base* (``select(Task)`` by default)."""
    stmt = query.live(sa.select(Task) if base is None else base, Task, params.include_deleted)
    if params.status:
        stmt = stmt.where(Task.status.in_(params.status))
    if params.project_id == "none":
        stmt = stmt.where(Task.project_id.is_(None))
    elif params.project_id:
        stmt = stmt.where(Task.project_id == uuid.UUID(params.project_id))
    if params.priority is not None:
        stmt = stmt.where(Task.priority == params.priority)
    if params.tag:
        wanted = sa.cast(sa.literal(list(dict.fromkeys(params.tag))), ARRAY(sa.Text))
        stmt = stmt.where(Task.tags.contains(wanted))
    if params.search:
        pattern = like_pattern(params.search)
        stmt = stmt.where(
            sa.or_(
                Task.title.ilike(pattern, escape="\\"),
                Task.description.ilike(pattern, escape="\\"),
            )
        )
    if params.due_after is not None:
        stmt = stmt.where(Task.due_date >= params.due_after)
    if params.due_before is not None:
        stmt = stmt.where(Task.due_date < params.due_before)
    return stmt


def ordering(sort: str, order: str | None) -> list:
    """Sort key, nulls last either way, then ``createdAt`` desc, then ``id``."""
    direction = order or DEFAULT_ORDER[sort]
    if sort == "createdAt":
        key = Task.created_at
    elif sort == "dueDate":
        key = Task.due_date
    elif sort == "priority":
        key = Task.priority
    else:
        key = sa.func.lower(Task.title)
    primary = key.asc() if direction == "asc" else key.desc()
    if sort == "dueDate":
        # the only nullable sort key; the others keep a plain order so an index can serve it
        primary = primary.nulls_last()
    return [primary, Task.created_at.desc(), Task.id]


def _count(params: TaskQuery) -> int:
    counting = filtered(params).with_only_columns(sa.func.count(), maintain_column_froms=True)
    return db.session.scalar(counting) or 0


def list_tasks(params: TaskQuery) -> query.Page:
    """One page of tasks and the number of matches.

    With a tag or search filter the matches come from bitmap index scans and must all be read
    to be sorted anyway, so the total rides along as ``count(*) OVER ()`` in the same scan.
    Without one, the page can be read in index order and stop after ``limit`` rows, so a
    separate count is cheaper than materialising every match.
    """
    offset = (params.page - 1) * params.limit
    page = filtered(params, joined()).order_by(*ordering(params.sort, params.order))
    page = page.limit(params.limit).offset(offset)
    if params.tag or params.search:
        rows = db.session.execute(page.add_columns(sa.func.count().over())).all()
        if rows:
            return query.Page(
                [_out(row[:-1]) for row in rows], params.page, params.limit, rows[0][-1]
            )
        return query.Page([], params.page, params.limit, _count(params) if offset else 0)
    total = _count(params)
    items = to_out(page) if offset < total else []
    return query.Page(items, params.page, params.limit, total)


def tag_list() -> list[str]:
    """Distinct tags of live tasks, by lowercase value then exact value."""
    tag = sa.func.unnest(Task.tags).table_valued("tag").render_derived().lateral()
    rows = db.session.scalars(
        sa.select(tag.c.tag)
        .distinct()
        .select_from(Task)
        .join(tag, sa.true())
        .where(Task.deleted_at.is_(None))
    )
    return sorted(rows, key=lambda value: (value.lower(), value))


# ------------------------------------------------------------------ writing


def create_task(data: TaskCreate, actor: str | None) -> Task:
    require_live_project(data.project_id)
    now = datetime.now(UTC)
    row = Task(
        title=data.title,
        description=data.description,
        status=data.status,
        priority=data.priority,
        project_id=data.project_id,
        due_date=data.due_date,
        tags=data.tags,
        created_at=now,
        created_by=actor,
        completed_at=now if data.status == DONE else None,
    )
    db.session.add(row)
    db.session.flush()
    notify("task", "create", row.id, row.title)
    return row


def update_task(task_id, data: TaskUpdate, actor: str | None) -> Task:
    changes = data.given()
    if not changes:
        raise Invalid("No updatable fields provided")
    row = get_task(task_id)
    if "project_id" in changes:
        require_live_project(changes["project_id"])
    now = datetime.now(UTC)
    if "status" in changes:
        # the completion rule: entering done stamps completedAt, leaving done clears it
        if changes["status"] == DONE and row.status != DONE:
            row.completed_at = now
        elif changes["status"] != DONE and row.status == DONE:
            row.completed_at = None
    for name, value in changes.items():
        setattr(row, name, value)
    row.modified_at = now
    row.modified_by = actor
    notify("task", "edit", row.id, row.title)
    return row


def delete_task(task_id, actor: str | None) -> Task:
    """Soft delete; the task's reminders stay (and stay pending until a restore)."""
    row = get_task(task_id)
    query.soft_delete(row, actor)
    notify("task", "delete", row.id, row.title)
    return row


def restore_task(task_id, actor: str | None) -> Task:
    row = get_task(task_id, include_deleted=True)
    query.restore(row, actor)
    notify("task", "restore", row.id, row.title)
    return row
