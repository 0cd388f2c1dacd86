"""Agent runs on the ``agents`` queue (API.md §11.3), executed with the shared agent loop.

A run ends one way or another, never hangs: the loop's cancel probe also trips at the run's
deadline (``COGNOVA_AGENT_RUN_TIMEOUT``), which closes a stalled stream; each API request is
bounded by the time left; and RQ's own job timeout (the deadline plus a margin) is the last
resort, caught here so the row is still closed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime

from flask import current_app
from rq.timeouts import JobTimeoutException

from cognova.extensions import db, redis_client
from cognova.jobs import job
from cognova.models.agents import CronAgent
from cognova.services import agent_runs
from cognova.services.errors import Unavailable

log = logging.getLogger(__name__)

RQ_MARGIN = 120  # seconds RQ waits beyond the run's own deadline before killing the job


def rq_timeout() -> int:
    return int(current_app.config["AGENT_RUN_TIMEOUT"]) + RQ_MARGIN


SYSTEM = """You are "{name}", a scheduled agent of Cognova, the user's personal knowledge vault \
and task manager. You run unattended on a cron schedule: nobody will answer questions, so \
decide for yourself and act with the tools (tasks, projects, reminders, vault documents, \
memory, current time). It is now {now} UTC ({timezone}: {local}).
{description}
Finish with a short markdown summary of what you did and found."""


class Heartbeat:
    """Refreshes the run's heartbeat key from a thread while the job works, so the sweeper can
    tell a live worker from a dead one. Self-contained: no app context in the thread."""

    def __init__(self, run_id):
        self.client = redis_client()
        self.key = agent_runs.heartbeat_key(run_id)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="agent-heartbeat", daemon=True)

    def _beat(self) -> None:
        while True:
            try:
                self.client.set(self.key, repr(time.time()), ex=agent_runs.HEARTBEAT_TTL)
            except Exception:
                log.debug("heartbeat failed", exc_info=True)
            if self.stop.wait(agent_runs.HEARTBEAT_EVERY):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        self.thread.join(2)


def _system_prompt(agent: CronAgent) -> str:
    from zoneinfo import ZoneInfo

    from cognova.services.agent_schedule import timezone_name

    now = datetime.now(UTC)
    zone = timezone_name()
    try:
        local = now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    except Exception:
        local = now.strftime("%Y-%m-%d %H:%M")
    description = f"Your purpose: {agent.description}\n" if agent.description else ""
    return SYSTEM.format(
        name=agent.name,
        now=now.strftime("%Y-%m-%d %H:%M"),
        timezone=zone,
        local=local,
        description=description,
    )


def _output(blocks: list[dict]) -> str | None:
    texts = [b["text"].strip() for b in blocks if b.get("type") == "text" and b.get("text")]
    return "\n\n".join(t for t in texts if t) or None


@job("agents", timeout=1800)
def execute_run(run_id: str) -> dict:
    """Run one agent run to its end and close its row."""
    from cognova.ai import client as ai_client
    from cognova.ai import loop, tools

    run = agent_runs.claim_for_execution(uuid.UUID(run_id))
    if run is None:
        db.session.rollback()
        return {"runId": run_id, "status": "skipped"}
    agent = db.session.get(CronAgent, run.agent_id)
    if agent is None:
        db.session.rollback()
        return {"runId": run_id, "status": "skipped"}
    config = current_app.config
    limit = float(config["AGENT_RUN_TIMEOUT"])
    started = time.monotonic()
    deadline = started + limit
    name, actor = agent.name, agent.created_by
    r = redis_client()
    flag = agent_runs.cancel_key(run_id)

    def stop_requested() -> bool:
        return bool(r.exists(flag)) or time.monotonic() > deadline

    pending: dict[str, dict] = {}

    def tool_started(tool_id: str, tool_name: str, args: dict) -> None:
        pending[tool_id] = args

    def tool_ended(tool_id: str, tool_name: str, outcome) -> None:
        agent_runs.record_step(
            run_id,
            {
                "toolUseId": tool_id,
                "name": tool_name,
                "input": pending.pop(tool_id, {}),
                "result": outcome.content[:5000],
                "isError": outcome.is_error,
                "at": datetime.now(UTC).isoformat(),
            },
        )

    result = None
    timed_out = False
    with Heartbeat(run_id):
        try:
            api = ai_client.get_client().with_options(timeout=max(5.0, min(limit, 600.0)))
            settings = loop.LoopSettings(
                model=ai_client.model_for(actor),
                max_tokens=config["CHAT_MAX_TOKENS"],
                max_turns=agent.max_turns or 50,
                budget_usd=agent.max_budget_usd,
                system=_system_prompt(agent),
                tool_context=tools.ToolContext(actor=actor),
                cancelled=stop_requested,
                tool_result_chars=config["TOOL_RESULT_MAX_CHARS"],
            )
            messages = [{"role": "user", "content": agent.prompt}]
            db.session.commit()  # hold no transaction open across the model's stream
            result = loop.run(
                api,
                messages,
                settings,
                loop.Callbacks(on_tool_start=tool_started, on_tool_end=tool_ended),
            )
        except Unavailable as exc:
            result = loop.LoopResult(stop="error", error=exc.message)
        except JobTimeoutException:
            timed_out = True
            result = loop.LoopResult(stop="error")
        except Exception:
            log.exception("agent run %s failed", run_id)
            result = loop.LoopResult(stop="error", error="Unexpected error")
    db.session.rollback()
    duration_ms = int((time.monotonic() - started) * 1000)
    status, error = _outcome(result, agent_runs.is_cancelled(run_id), timed_out, limit, started)
    agent_runs.finish(
        run_id,
        status,
        output=_output(result.blocks),
        error=error,
        cost_usd=result.cost_usd,
        input_tokens=result.usage.total_input,
        output_tokens=result.usage.output_tokens,
        num_turns=result.num_turns,
        duration_ms=duration_ms,
    )
    from cognova.services import usage

    usage.record(
        "agent",
        run_id,
        name,
        result.usage.total_input,
        result.usage.output_tokens,
        result.cost_usd,
        duration_ms,
        result.num_turns,
    )
    db.session.commit()
    return {"runId": run_id, "status": status}


def _outcome(result, cancelled: bool, timed_out: bool, limit: float, started: float):
    """(status, error) of a finished loop."""
    if cancelled:
        return "cancelled", None
    if timed_out or (result.stop == "interrupted" and time.monotonic() - started >= limit):
        return "error", f"Run timed out after {int(limit)} s"
    if result.stop in ("end_turn", "max_tokens", "stop_sequence", "pause_turn"):
        return "success", None
    if result.stop == "budget":
        return "budget_exceeded", "Stopped: the next call could exceed the budget"
    if result.stop == "max_turns":
        return "error", f"Stopped after the maximum of {result.num_turns} turns"
    if result.stop == "interrupted":
        return "cancelled", None
    return "error", result.error or "Run failed"
