"""Claude Code hooks (API.md §13): analytics events, their stats, and the native HTTP hook."""

from __future__ import annotations

from flask import current_app, jsonify

from cognova.api.errors import ApiError
from cognova.api.spec import ApiBlueprint, ok
from cognova.api.validation import json_body, validate
from cognova.schemas.hooks import (
    ClaudeHookInput,
    ClaudeHookOutput,
    HookEventIn,
    HookEventOut,
    HookEventQuery,
    HookStats,
    StatsQuery,
)
from cognova.services import auth as auth_service
from cognova.services import claude_hooks, hooks

bp = ApiBlueprint("hooks", __name__, tag="Hooks")


@bp.endpoint(
    "POST",
    "/hooks/events",
    summary="Record a hook event",
    body=HookEventIn,
    response=HookEventOut,
    status=201,
    nul="replace",
)
def create_hook_event(body: HookEventIn):
    given = body.given()
    data = hooks.record(
        body.event_type,
        session_id=body.session_id,
        project_dir=body.project_dir,
        tool_name=body.tool_name,
        tool_matcher=body.tool_matcher,
        event_data=body.event_data if "event_data" in given else None,
        exit_code=body.exit_code,
        blocked=body.blocked,
        block_reason=body.block_reason,
        duration_ms=body.duration_ms,
        hook_script=body.hook_script,
    )
    return ok(data, 201)


@bp.endpoint(
    "GET",
    "/hooks/events",
    summary="Recent hook events (newest first)",
    query=HookEventQuery,
    response=[HookEventOut],
)
def list_hook_events(query: HookEventQuery):
    return ok(
        hooks.list_events(
            event_types=query.event_type,
            session_id=query.session_id,
            tool_name=query.tool_name,
            blocked=query.blocked,
            since=query.since,
            until=query.until,
            limit=query.limit,
        )
    )


@bp.endpoint(
    "GET",
    "/hooks/stats",
    summary="Hook analytics over a period",
    query=StatsQuery,
    response=HookStats,
)
def hook_stats(query: StatsQuery):
    return ok(hooks.stats(query.period))


def _token_ok() -> bool:
    from cognova.security import _token_header

    token = _token_header()
    return token is not None and auth_service.tokens_equal(token, current_app.config["API_TOKEN"])


@bp.endpoint(
    "POST",
    "/hooks/claude",
    summary="Claude Code native HTTP hook",
    public=True,
    envelope="raw",
    body=ClaudeHookInput,
    response=ClaudeHookOutput,
    errors=(401,),
    defer_body=True,
    description=(
        "Point a Claude Code hook of type `http` here, with the API token in an `X-API-Token` "
        "(or `Authorization: Bearer`) header. The body is Claude Code's hook input JSON. "
        "SessionStart, SessionEnd, PreToolUse, PostToolUse, PostToolUseFailure and "
        "UserPromptSubmit are stored as hook events (cwd → projectDir, the rest → eventData); "
        "other events are answered without a row. SessionStart answers with the memory context "
        "as `hookSpecificOutput.additionalContext`; Stop and PreCompact queue memory "
        "extraction from `transcript_path`. Other events answer `{}`."
    ),
)
def claude_hook():
    # Public in the route table so that this handler, not the global guard, answers 401:
    # Claude Code sends only the token header, never a session.
    if not _token_ok():
        raise ApiError(401, "Authentication required")
    payload = json_body(nul="replace")
    validate(ClaudeHookInput, payload)
    return jsonify(claude_hooks.handle(payload))
