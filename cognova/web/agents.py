"""Agent pages: the list with stats and the form, and one agent's detail with its runs."""

from __future__ import annotations

from flask import Blueprint, render_template

from cognova.api.validation import is_uuid
from cognova.extensions import db
from cognova.models.agents import CronAgent

bp = Blueprint("agents_pages", __name__)


def _not_found():
    return render_template(
        "errors/error.html", status=404, title="Not Found", message="This agent does not exist."
    ), 404


@bp.get("/agents")
def agents_page():
    return render_template("agents/index.html", active="/agents")


@bp.get("/agents/<agent_id>")
def agent_page(agent_id: str):
    if not is_uuid(agent_id):
        return _not_found()
    agent = db.session.get(CronAgent, agent_id.lower())
    if agent is None:
        return _not_found()
    return render_template(
        "agents/detail.html", active="/agents", agent_id=str(agent.id), agent_name=agent.name
    )
