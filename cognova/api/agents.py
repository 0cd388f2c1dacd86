"""Agents: scheduled Claude runs (API.md §11)."""

from __future__ import annotations

from flask import g

from cognova.api.spec import ApiBlueprint, ok
from cognova.api.validation import iso_ms, require_fields
from cognova.extensions import db
from cognova.schemas.agents import (
    AgentCreate,
    AgentDeleted,
    AgentListQuery,
    AgentOut,
    AgentStats,
    AgentUpdate,
    Cancelled,
    GlobalAgentStats,
    PreviewQuery,
    RunAccepted,
    RunDetail,
    RunOut,
    RunQuery,
    RunsQuery,
    SchedulePreview,
    StatsQuery,
)
from cognova.services import agent_runs, agent_schedule
from cognova.services import agents as agents_service

bp = ApiBlueprint("agents", __name__, tag="Agents")


@bp.endpoint("GET", "/agents", summary="List agents", query=AgentListQuery, response=[AgentOut])
def list_agents(query: AgentListQuery):
    return ok(agents_service.agents_json(agents_service.list_agents(query.enabled)))


@bp.endpoint(
    "POST", "/agents", summary="Create an agent", body=AgentCreate, response=AgentOut, status=201
)
def create_agent(body: AgentCreate):
    agent = agents_service.create(body.model_dump(), g.auth.user.id)
    db.session.commit()
    return ok(agents_service.one_json(agent), 201)


@bp.endpoint(
    "GET",
    "/agents/stats",
    summary="Stats over all agents",
    query=StatsQuery,
    response=GlobalAgentStats,
)
def global_agent_stats(query: StatsQuery):
    return ok(agents_service.global_stats(query.period))


@bp.endpoint(
    "GET",
    "/agents/schedule/preview",
    summary="Next fire times and description of a cron expression",
    query=PreviewQuery,
    response=SchedulePreview,
)
def preview_schedule(query: PreviewQuery):
    runs = agent_schedule.next_runs(query.schedule, query.count)
    return ok(
        {
            "schedule": query.schedule,
            "description": agent_schedule.describe(query.schedule),
            "timezone": agent_schedule.timezone_name(),
            "nextRuns": [iso_ms(t) for t in runs],
        }
    )


@bp.endpoint("GET", "/agents/<id>", summary="Get an agent", response=AgentOut, errors=(404,))
def get_agent(id: str):
    return ok(agents_service.one_json(agents_service.get(id)))


@bp.endpoint(
    "PATCH",
    "/agents/<id>",
    summary="Update an agent (partial); the schedule takes effect at once",
    body=AgentUpdate,
    response=AgentOut,
    errors=(404,),
)
def update_agent(id: str, body: AgentUpdate):
    agent = agents_service.update(id, require_fields(body))
    db.session.commit()
    return ok(agents_service.one_json(agent))


@bp.endpoint(
    "DELETE",
    "/agents/<id>",
    summary="Cancel running runs and delete the agent with its runs",
    response=AgentDeleted,
    errors=(404,),
)
def delete_agent(id: str):
    deleted = agents_service.delete(id)
    db.session.commit()
    return ok(deleted)


@bp.endpoint(
    "POST",
    "/agents/<id>/run",
    summary="Run the agent now",
    query=RunQuery,
    response=RunAccepted,
    status=202,
    errors=(404, 409, 503),
)
def run_agent(id: str, query: RunQuery):
    agents_service.get(id)
    agent_runs.require_ai_key()
    run = agent_runs.start_manual(id, force=query.force)
    return ok({"runId": str(run.id)}, 202)


@bp.endpoint(
    "POST",
    "/agents/<id>/cancel",
    summary="Cancel the agent's running runs",
    response=Cancelled,
    errors=(404,),
)
def cancel_agent(id: str):
    count = agents_service.cancel(id)
    db.session.commit()
    return ok({"cancelledCount": count})


@bp.endpoint(
    "GET",
    "/agents/<id>/runs",
    summary="The agent's runs, newest first",
    query=RunsQuery,
    response=[RunOut],
    errors=(404,),
)
def list_agent_runs(id: str, query: RunsQuery):
    runs = agents_service.runs(id, query.limit, query.period)
    return ok([agents_service.run_json(r) for r in runs])


@bp.endpoint(
    "GET",
    "/agents/<id>/runs/<runId>",
    summary="One run of the agent, with its recorded tool calls",
    response=RunDetail,
    errors=(404,),
)
def get_agent_run(id: str, runId: str):
    run = agents_service.run(id, runId)
    data = agents_service.run_json(run)
    data["toolCalls"] = agent_runs.steps(run.id)
    return ok(data)


@bp.endpoint(
    "GET",
    "/agents/<id>/stats",
    summary="Stats of one agent",
    query=StatsQuery,
    response=AgentStats,
    errors=(404,),
)
def agent_stats(id: str, query: StatsQuery):
    data = agents_service.stats(id, query.period)
    data["lastRunAt"] = iso_ms(data["lastRunAt"])
    return ok(data)
