"""Tasks (API.md §5): filters, sorting, the completion rule, tags and soft delete.

Tags are a ``text[]``; the tag filter is array containment (``tags @> ARRAY[...]``) so the GIN
index ``ix_tasks_tags`` answers it. The search term is a case-insensitive substring of title or
description, served by the trigram indexes of migrations 0003 and 0007; a list filtered by
status, tag and term together finds its candidates through the search keys of migration 0009.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import aliased

from cognova.extensions import db, reading
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


def _filter_values(params: TaskQuery) -> dict:
    """The values of a task list's filters, by the name of their bound parameter."""
    values: dict = {}
    if params.status:
        values["f_status"] = list(params.status)
    if params.project_id and params.project_id != "none":
        values["f_project"] = uuid.UUID(params.project_id)
    if params.priority is not None:
        values["f_priority"] = params.priority
    if params.tag:
        values["f_tags"] = list(dict.fromkeys(params.tag))
    if params.search:
        values["f_search"] = like_pattern(params.search)
    if params.due_after is not None:
        values["f_due_after"] = params.due_after
    if params.due_before is not None:
        values["f_due_before"] = params.due_before
    if _keyed(params):
        values["f_key_statuses"] = list(params.status)
        values["f_term"] = params.search
    return values


def _keyed(params: TaskQuery) -> bool:
    """Whether the list finds its candidates through the search keys index (migration
    0009_task_search_keys): live tasks filtered by status, tag and search term together."""
    return bool(params.status and params.tag and params.search and not params.include_deleted)


TEXT_ARRAY = ARRAY(sa.Text)


def _source(values: dict):
    """What a task list reads from: the tasks table, or — for a keyed list — the live tasks
    of the wanted statuses whose search keys hold those of the tags and term
    (``cognova_task_candidates``, migration 0009_task_search_keys).

    The candidates are a superset of the matches; ``filtered`` applies every exact condition
    to them.
    """
    if "f_term" not in values:
        return Task
    candidates = sa.func.cognova_task_candidates(
        sa.bindparam("f_key_statuses", values["f_key_statuses"], type_=TEXT_ARRAY),
        sa.bindparam("f_tags", values["f_tags"], type_=TEXT_ARRAY),
        sa.bindparam("f_term", values["f_term"], type_=sa.Text),
    ).table_valued(*(sa.column(column.name, column.type) for column in Task.__table__.c))
    return aliased(Task, candidates.alias("candidates"), adapt_on_names=True)


def filtered(params: TaskQuery, columns=None) -> tuple[sa.Select, object]:
    """The statement of a task list's matches, and the entity it reads them from (``Task``
    or its keyed candidates, see ``_source``): ``columns(entity)`` are selected (the entity
    itself by default).

    Every value is a named bound parameter (see ``_filter_values``), so a statement built once
    serves any query of the same shape with other values.
    """
    values = _filter_values(params)
    t = _source(values)
    stmt = sa.select(*columns(t)) if columns else sa.select(t)
    stmt = query.live(stmt, t, params.include_deleted)
    if "f_status" in values:
        # written into the SQL (validated enum values): the per-status partial indexes of
        # migration 0007 then match even in a prepared statement's generic plan
        status = sa.bindparam("f_status", values["f_status"], expanding=True, literal_execute=True)
        stmt = stmt.where(t.status.in_(status))
    if params.project_id == "none":
        stmt = stmt.where(t.project_id.is_(None))
    elif "f_project" in values:
        stmt = stmt.where(t.project_id == sa.bindparam("f_project", values["f_project"]))
    if "f_priority" in values:
        stmt = stmt.where(t.priority == sa.bindparam("f_priority", values["f_priority"]))
    if "f_tags" in values:
        wanted = sa.bindparam("f_tags", values["f_tags"], type_=TEXT_ARRAY)
        stmt = stmt.where(t.tags.contains(sa.cast(wanted, TEXT_ARRAY)))
    if "f_search" in values:
        pattern = sa.bindparam("f_search", values["f_search"], type_=sa.Text)
        stmt = stmt.where(
            sa.or_(
                t.title.ilike(pattern, escape="\\"),
                t.description.ilike(pattern, escape="\\"),
            )
        )
    if "f_due_after" in values:
        stmt = stmt.where(t.due_date >= sa.bindparam("f_due_after", values["f_due_after"]))
    if "f_due_before" in values:
        stmt = stmt.where(t.due_date < sa.bindparam("f_due_before", values["f_due_before"]))
    return stmt, t


def ordering(sort: str, order: str | None, cols=None) -> list:
    """Sort key, nulls last either way, then ``createdAt`` desc, then ``id``.

    *cols* holds the task columns to sort on (``Task`` by default; a subquery's ``.c``).
    """
    cols = Task if cols is None else cols
    direction = order or DEFAULT_ORDER[sort]
    if sort == "createdAt":
        key = cols.created_at
    elif sort == "dueDate":
        key = cols.due_date
    elif sort == "priority":
        key = cols.priority
    else:
        key = sa.func.lower(cols.title)
    primary = key.asc() if direction == "asc" else key.desc()
    if sort == "dueDate":
        # the only nullable sort key; the others keep a plain order so an index can serve it
        primary = primary.nulls_last()
    return [primary, cols.created_at.desc(), cols.id]


def _count(params: TaskQuery, connection: sa.Connection | None = None) -> int:
    stmt, _ = filtered(params)
    counting = stmt.with_only_columns(sa.func.count(), maintain_column_froms=True)
    return (connection or db.session).scalar(counting) or 0


# the columns of a Task row, in TaskOut's order (a list reads them without ORM objects)
COLUMNS = (
    Task.id,
    Task.title,
    Task.description,
    Task.status,
    Task.priority,
    Task.project_id,
    Task.due_date,
    Task.tags,
    Task.completed_at,
    Task.created_at,
    Task.modified_at,
    Task.deleted_at,
    Task.created_by,
    Task.modified_by,
    Task.deleted_by,
)


# page statements by query shape (which filters, sort, order): built once, run with new values
_PAGE_STATEMENTS: dict[tuple, sa.Select] = {}


def _windowed(params: TaskQuery) -> bool:
    return bool(params.tag or params.search)


def _shape(params: TaskQuery, values: dict) -> tuple:
    """What a page statement is built from: which filters, sort and order (not their values)."""
    return (
        tuple(values),
        params.project_id == "none",
        params.include_deleted,
        params.sort,
        params.order,
        _windowed(params),
    )


def _page_values(params: TaskQuery) -> tuple[dict, tuple]:
    """The values a page's statement runs with, and the shape it is built from."""
    values = _filter_values(params)
    shape = _shape(params, values)
    values["p_limit"] = params.limit
    values["p_offset"] = (params.page - 1) * params.limit
    return values, shape


def page_statement(params: TaskQuery) -> tuple[sa.Select, dict]:
    """The statement of one page and the values to run it with.

    Rows: the task columns (then ``total`` when windowed), ``project_name``,
    ``project_color``, ``creator_name``. The page is chosen first, from ``tasks`` alone, and
    only its rows are joined to their project and creator.
    """
    values, shape = _page_values(params)
    windowed = _windowed(params)
    stmt = _PAGE_STATEMENTS.get(shape)
    if stmt is not None:
        return stmt, values
    inner, t = filtered(params, lambda t: [getattr(t, column.key) for column in COLUMNS])
    if windowed:
        inner = inner.add_columns(sa.func.count().over().label("total"))
    inner = (
        inner.order_by(*ordering(params.sort, params.order, t))
        .limit(sa.bindparam("p_limit", values["p_limit"], type_=sa.Integer))
        .offset(sa.bindparam("p_offset", values["p_offset"], type_=sa.Integer))
        .subquery("page")
    )
    stmt = (
        sa.select(
            inner,
            Project.name.label("project_name"),
            Project.color.label("project_color"),
            User.name.label("creator_name"),
        )
        .outerjoin(Project, Project.id == inner.c.project_id)
        .outerjoin(User, User.id == inner.c.created_by)
        .order_by(*ordering(params.sort, params.order, inner.c))
    )
    if len(_PAGE_STATEMENTS) < 512:
        _PAGE_STATEMENTS[shape] = stmt
    return stmt, values


def _paged(params: TaskQuery, read) -> tuple[object, int]:
    """One page, by ``read(connection)`` → (page, total carried by the page or None), and the
    number of matches; the page is None when it lies past the end.

    With a tag or search filter the matches come from bitmap index scans and must all be read
    to be sorted anyway, so the total rides along as ``count(*) OVER ()`` in the same scan.
    Without one, the page can be read in index order and stop after ``limit`` rows, so a
    separate count is cheaper than materialising every match.
    """
    offset = (params.page - 1) * params.limit
    with reading() as connection:
        if not _windowed(params):
            total = _count(params, connection)
            return (read(connection)[0] if offset < total else None), total
        page, total = read(connection)
        if total is None:  # an empty page: past the end, or nothing matches
            total = _count(params, connection) if offset else 0
    return page, total


def _row_out(row) -> TaskOut:
    task = {column.key: getattr(row, column.key) for column in COLUMNS}
    return _out((SimpleNamespace(**task), row.project_name, row.project_color, row.creator_name))


# Task timestamps on the wire (``validation.iso_ms``), written by PostgreSQL: UTC, milliseconds
# truncated, a ``Z``
WIRE_TIME = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def _constant(value: str) -> sa.ColumnElement:
    """A string written into the SQL instead of bound: the statement's constants cost no
    parameter on every execution, and the text stays short enough for the driver to cache
    its parse."""
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.Text)


def _json_object(*keys_and_values) -> sa.ColumnElement:
    """``json_build_object`` with its keys (the even arguments) written into the SQL."""
    return sa.func.json_build_object(
        *(_constant(arg) if n % 2 == 0 else arg for n, arg in enumerate(keys_and_values))
    )


def _wire_time(column) -> sa.ColumnElement:
    return sa.func.to_char(sa.func.timezone(_constant("UTC"), column), _constant(WIRE_TIME))


def page_json_statement(params: TaskQuery) -> tuple[sa.Select, dict]:
    """``page_statement`` with the page written as its JSON array by PostgreSQL.

    One row: ``data``, the Task objects of API.md §5 in page order (what ``TaskOut``
    serialises to; a test compares each with ``GET /api/tasks/<id>``), and ``total`` when the
    page statement carries it. The HTTP list passes ``data`` through as it is: no row, UUID or
    timestamp becomes a Python object on the way.
    """
    page, values = page_statement(params)
    windowed = _windowed(params)
    c = page.subquery("p").c
    project = sa.case(
        (
            sa.and_(c.project_id.isnot(None), c.project_name.isnot(None)),
            _json_object("id", c.project_id, "name", c.project_name, "color", c.project_color),
        )
    )
    creator = sa.case(
        (
            sa.and_(c.created_by.isnot(None), c.creator_name.isnot(None)),
            _json_object("id", c.created_by, "name", c.creator_name),
        )
    )
    task = _json_object(
        "id", c.id,
        "title", c.title,
        "description", c.description,
        "status", c.status,
        "priority", c.priority,
        "projectId", c.project_id,
        "project", project,
        "dueDate", _wire_time(c.due_date),
        "tags", sa.func.coalesce(c.tags, sa.literal_column("'{}'::text[]")),
        "completedAt", _wire_time(c.completed_at),
        "createdAt", _wire_time(c.created_at),
        "modifiedAt", _wire_time(c.modified_at),
        "deletedAt", _wire_time(c.deleted_at),
        "createdBy", c.created_by,
        "modifiedBy", c.modified_by,
        "deletedBy", c.deleted_by,
        "creator", creator,
    )  # fmt: skip
    in_order = aggregate_order_by(task, *ordering(params.sort, params.order, c))
    data = sa.func.coalesce(sa.func.json_agg(in_order), sa.literal_column("'[]'::json"))
    total = sa.func.max(c.total) if windowed else sa.null()
    stmt = sa.select(sa.cast(data, sa.Text).label("data"), total.label("total"))
    return stmt, values


def list_tasks(params: TaskQuery) -> query.Page:
    """One page of tasks (``TaskOut``) and the number of matches."""

    def read(connection):
        stmt, values = page_statement(params)
        rows = connection.execute(stmt, values).all()
        return rows, (rows[0].total if rows and _windowed(params) else None)

    rows, total = _paged(params, read)
    return query.Page([_row_out(row) for row in rows or ()], params.page, params.limit, total)


def list_tasks_json(params: TaskQuery) -> tuple[str, int]:
    """One page of tasks as the JSON text of its array (see ``page_json_statement``), and
    the number of matches."""

    def read(connection):
        sql, bound = page_json_sql(params, connection.dialect)
        return connection.exec_driver_sql(sql, bound).one()

    data, total = _paged(params, read)
    return data or "[]", total


# page_json_statement compiled to the driver's SQL, by query shape and statuses (written into
# the SQL): the SQL text and the names of its parameters
_PAGE_JSON_SQL: dict[tuple, tuple[str, tuple[str, ...]]] = {}


def page_json_sql(params: TaskQuery, dialect: sa.Dialect) -> tuple[str, dict]:
    """``page_json_statement`` as the driver's SQL text and its parameters.

    Built and compiled once per query shape and set of statuses; a request then only picks its
    values, with nothing for SQLAlchemy to build, compile, expand or process on the way to the
    driver. Every parameter is a filter or page value (the constants are written into the SQL).
    """
    values, shape = _page_values(params)
    key = (shape, tuple(values.get("f_status", ())))
    found = _PAGE_JSON_SQL.get(key)
    if found is None:
        stmt, _ = page_json_statement(params)
        expanded = stmt.compile(dialect=dialect).construct_expanded_state(values)
        found = (expanded.statement, tuple(expanded.parameters))
        if len(_PAGE_JSON_SQL) < 512:
            _PAGE_JSON_SQL[key] = found
    sql, names = found
    return sql, {name: values[name] for name in names}


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
