"""Projects (API.md §4)."""

from __future__ import annotations

from flask import g

from cognova.api.spec import ApiBlueprint, ok
from cognova.extensions import db
from cognova.schemas.projects import (
    ProjectCreate,
    ProjectOneQuery,
    ProjectOut,
    ProjectQuery,
    ProjectUpdate,
)
from cognova.services import projects

bp = ApiBlueprint("projects", __name__, tag="Projects")


def _json(item: ProjectOut) -> dict:
    return item.model_dump(mode="json", by_alias=True)


def _actor() -> str:
    return g.auth.user.id


@bp.endpoint("GET", "/projects", summary="List projects", query=ProjectQuery, response=[ProjectOut])
def list_projects(query: ProjectQuery):
    items = projects.list_projects(include_deleted=query.include_deleted, search=query.search)
    return ok([_json(item) for item in items])


@bp.endpoint(
    "POST",
    "/projects",
    summary="Create a project",
    body=ProjectCreate,
    response=ProjectOut,
    status=201,
)
def create_project(body: ProjectCreate):
    row = projects.create_project(body, _actor())
    db.session.commit()
    return ok(_json(projects.one_out(row)), 201)


@bp.endpoint(
    "GET",
    "/projects/<id>",
    summary="Get a project",
    query=ProjectOneQuery,
    response=ProjectOut,
    errors=(404,),
)
def get_project(id: str, query: ProjectOneQuery):
    row = projects.get_project(id, include_deleted=query.include_deleted)
    return ok(_json(projects.one_out(row)))


@bp.endpoint(
    "PUT",
    "/projects/<id>",
    summary="Update a project",
    body=ProjectUpdate,
    response=ProjectOut,
    errors=(404,),
)
def update_project(id: str, body: ProjectUpdate):
    row = projects.update_project(id, body, _actor())
    db.session.commit()
    return ok(_json(projects.one_out(row)))


@bp.endpoint(
    "DELETE", "/projects/<id>", summary="Delete a project", response=ProjectOut, errors=(404,)
)
def delete_project(id: str):
    row = projects.delete_project(id, _actor())
    db.session.commit()
    return ok(_json(projects.one_out(row)))


@bp.endpoint(
    "POST",
    "/projects/<id>/restore",
    summary="Restore a deleted project",
    response=ProjectOut,
    errors=(404,),
)
def restore_project(id: str):
    row = projects.restore_project(id, _actor())
    db.session.commit()
    return ok(_json(projects.one_out(row)))
