"""Projects (API.md §4): soft-deletable groups of tasks and documents, with live task counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import Project, Task
from cognova.schemas.projects import ProjectCreate, ProjectOut, ProjectUpdate
from cognova.services import query
from cognova.services.errors import Invalid, field_error
from cognova.services.notifications import notify


def like_pattern(term: str) -> str:
    """An ILIKE pattern matching *term* as a literal substring (``%`` and ``_`` escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def task_counts(project_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Live tasks per project, for any number of projects in one grouped query."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        sa.select(Task.project_id, sa.func.count())
        .where(Task.project_id.in_(project_ids), Task.deleted_at.is_(None))
        .group_by(Task.project_id)
    )
    return dict(rows.tuples().all())


def to_out(rows: list[Project]) -> list[ProjectOut]:
    counts = task_counts([row.id for row in rows])
    return [
        ProjectOut.model_validate(row).model_copy(update={"task_count": counts.get(row.id, 0)})
        for row in rows
    ]


def one_out(row: Project) -> ProjectOut:
    return to_out([row])[0]


def list_projects(*, include_deleted: bool = False, search: str | None = None) -> list[ProjectOut]:
    stmt = query.live(sa.select(Project), Project, include_deleted)
    if search:
        stmt = stmt.where(Project.name.ilike(like_pattern(search), escape="\\"))
    stmt = stmt.order_by(sa.func.lower(Project.name), Project.created_at, Project.id)
    return to_out(list(db.session.scalars(stmt)))


def get_project(project_id, *, include_deleted: bool = False) -> Project:
    return query.get_or_404(
        Project, project_id, include_deleted=include_deleted, message="Project not found"
    )


def require_live_project(project_id: uuid.UUID | None, field: str = "projectId") -> None:
    """A project referenced from a body must exist and not be deleted (400, not 404)."""
    if project_id is None:
        return
    row = db.session.get(Project, project_id)
    if row is None or row.deleted_at is not None:
        raise field_error(field, "Project not found")


def create_project(data: ProjectCreate, actor: str | None) -> Project:
    row = Project(
        name=data.name,
        color=data.color,
        description=data.description,
        created_at=datetime.now(UTC),
        created_by=actor,
    )
    db.session.add(row)
    db.session.flush()
    notify("project", "create", row.id, row.name)
    return row


def update_project(project_id, data: ProjectUpdate, actor: str | None) -> Project:
    changes = data.given()
    if not changes:
        raise Invalid("No updatable fields provided")
    row = get_project(project_id)
    for name, value in changes.items():
        setattr(row, name, value)
    row.modified_at = datetime.now(UTC)
    row.modified_by = actor
    notify("project", "edit", row.id, row.name)
    return row


def delete_project(project_id, actor: str | None) -> Project:
    """Soft delete; tasks and documents keep their ``project_id``."""
    row = get_project(project_id)
    query.soft_delete(row, actor)
    notify("project", "delete", row.id, row.name)
    return row


def restore_project(project_id, actor: str | None) -> Project:
    row = get_project(project_id, include_deleted=True)
    query.restore(row, actor)
    notify("project", "restore", row.id, row.name)
    return row
