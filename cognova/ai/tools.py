"""Claude's tools (API.md §10.6): functions over ``services/`` with JSON-schema inputs.

Each tool validates its input with the same pydantic model as the matching API body, calls the
same service function, commits like the API would, and returns JSON text. A validation or
lookup failure, an unknown tool or a crash inside a tool becomes an ``is_error`` result the model
can react to; the turn goes on. Results are truncated for the model at
``COGNOVA_TOOL_RESULT_MAX_CHARS``.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cognova.api.validation import format_errors
from cognova.extensions import db
from cognova.services.errors import ServiceError

log = logging.getLogger(__name__)

TRUNCATED = "\n…[truncated: {omitted} more characters]"


@dataclass
class ToolContext:
    actor: str | None = None  # the user the tool acts for (audit fields)


@dataclass
class ToolOutcome:
    content: str
    is_error: bool = False


@dataclass
class Tool:
    name: str
    description: str
    input_model: type[BaseModel]
    handler: Callable[[Any, ToolContext], Any]

    def definition(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": input_schema(self.input_model),
        }


REGISTRY: dict[str, Tool] = {}


def tool(name: str, description: str, input_model: type[BaseModel]):
    def decorator(fn):
        REGISTRY[name] = Tool(name, description, input_model, fn)
        return fn

    return decorator


# ----------------------------------------------------------------- schemas


def _inline(node: Any, defs: dict) -> Any:
    """Resolve ``$ref``s and drop pydantic's ``title`` keys: the model reads a flat schema."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {
            k: _inline(v, defs)
            for k, v in node.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def input_schema(model: type[BaseModel]) -> dict:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    defs = schema.pop("$defs", {})
    schema = _inline(schema, defs)
    schema.setdefault("properties", {})
    schema["type"] = "object"
    return schema


def definitions(names: list[str] | None = None) -> list[dict]:
    """The ``tools`` parameter of a Messages API call."""
    return list(_definitions(tuple(names) if names else None, len(REGISTRY)))


@functools.lru_cache(maxsize=64)
def _definitions(names: tuple[str, ...] | None, _registry_size: int) -> tuple[dict, ...]:
    # Building the schemas takes milliseconds; the registry only grows at import time.
    return tuple(REGISTRY[n].definition() for n in (names or tuple(REGISTRY)) if n in REGISTRY)


# ----------------------------------------------------------------- running


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def render(value: Any) -> str:
    return (
        value
        if isinstance(value, str)
        else json.dumps(_dump(value), ensure_ascii=False, default=str)
    )


def truncate(text: str, limit: int) -> str:
    if limit <= 0 or len(text) <= limit:
        return text
    return text[:limit] + TRUNCATED.format(omitted=len(text) - limit)


def _error(message: str, errors: dict | None = None) -> ToolOutcome:
    payload: dict[str, Any] = {"error": message}
    if errors:
        payload["errors"] = errors
    return ToolOutcome(json.dumps(payload, ensure_ascii=False), True)


def run(name: str, raw_input: Any, context: ToolContext, limit: int | None = None) -> ToolOutcome:
    """Run one tool call; never raises."""
    limit = current_app.config["TOOL_RESULT_MAX_CHARS"] if limit is None else limit
    entry = REGISTRY.get(name)
    if entry is None:
        return _error(f"Unknown tool: {name}. Available tools: {', '.join(sorted(REGISTRY))}")
    if not isinstance(raw_input, dict):
        return _error("Tool input must be a JSON object")
    try:
        args = entry.input_model.model_validate(raw_input)
    except ValidationError as exc:
        return _error("Validation failed", format_errors(exc))
    try:
        result = entry.handler(args, context)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _error(exc.message, exc.errors)
    except Exception as exc:  # a bug in a tool must not end the turn
        db.session.rollback()
        log.exception("tool %s failed", name)
        return _error(f"Tool failed: {type(exc).__name__}")
    return ToolOutcome(truncate(render(result), limit))


# ----------------------------------------------------------------- inputs


class ToolInput(BaseModel):
    """Tool inputs take the API's camelCase names (snake_case accepted too)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class IdInput(ToolInput):
    id: Annotated[str, Field(description="the row's UUID")]


def _uuid(value: str, field: str = "id") -> uuid.UUID:
    from cognova.services.errors import field_error

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise field_error(field, "must be a UUID") from None


# ----------------------------------------------------------------- time


class NoInput(ToolInput):
    pass


@tool("get_current_time", "The current date and time in UTC and in the user's time zone.", NoInput)
def get_current_time(_args, _ctx):
    now = datetime.now(UTC)
    zone = current_app.config["TIMEZONE"]
    try:
        local = now.astimezone(ZoneInfo(zone))
    except Exception:
        zone, local = "UTC", now
    return {
        "utc": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "local": local.isoformat(timespec="seconds"),
        "timezone": zone,
        "weekday": local.strftime("%A"),
    }


# ----------------------------------------------------------------- tasks, projects, reminders


def _register_task_tools() -> None:
    try:
        from cognova.schemas.tasks import STATUSES, TaskCreate, TaskQuery, TaskUpdate
        from cognova.services import tasks
    except ImportError:  # the tasks service is not installed in this build
        return

    status_list = list[Literal[STATUSES]]  # type: ignore[valid-type]

    class ListTasksInput(ToolInput):
        status: status_list = Field(default_factory=list, description="any of these statuses")
        project_id: str | None = Field(None, alias="projectId", description='uuid, or "none"')
        tag: list[str] = Field(default_factory=list)
        search: str | None = Field(None, description="substring of title or description")
        due_after: str | None = Field(None, alias="dueAfter", description="ISO date-time")
        due_before: str | None = Field(None, alias="dueBefore", description="ISO date-time")
        limit: int = Field(50, ge=1, le=200)

    class UpdateTaskInput(TaskUpdate):
        id: Annotated[str, Field(description="the task's UUID")]

    @tool("list_tasks", "List tasks, newest first, with optional filters.", ListTasksInput)
    def list_tasks(args, _ctx):
        params = {"status": args.status, "tag": args.tag, "limit": str(args.limit)}
        for key, value in (
            ("projectId", args.project_id),
            ("search", args.search),
            ("dueAfter", args.due_after),
            ("dueBefore", args.due_before),
        ):
            if value is not None:
                params[key] = value
        try:
            query = TaskQuery.model_validate(params)
        except ValidationError as exc:
            raise ServiceError("Validation failed", format_errors(exc)) from None
        page = tasks.list_tasks(query)
        return {"total": page.total, "tasks": page.items}

    @tool("create_task", "Create a task.", TaskCreate)
    def create_task(args, ctx):
        row = tasks.create_task(args, ctx.actor)
        return tasks.task_out(row.id)

    @tool("update_task", "Change fields of a task (id plus the fields to change).", UpdateTaskInput)
    def update_task(args, ctx):
        task_id = _uuid(args.id)
        changes = TaskUpdate.model_validate(
            {
                k: v
                for k, v in args.model_dump(by_alias=True, exclude_unset=True).items()
                if k != "id"
            }
        )
        tasks.update_task(task_id, changes, ctx.actor)
        return tasks.task_out(task_id)

    @tool("complete_task", "Mark a task as done.", IdInput)
    def complete_task(args, ctx):
        task_id = _uuid(args.id)
        tasks.update_task(task_id, TaskUpdate.model_validate({"status": "done"}), ctx.actor)
        return tasks.task_out(task_id)

    @tool("delete_task", "Delete a task (it can be restored from the tasks page).", IdInput)
    def delete_task(args, ctx):
        row = tasks.delete_task(_uuid(args.id), ctx.actor)
        return {"id": str(row.id), "title": row.title, "deleted": True}


def _register_project_tools() -> None:
    try:
        from cognova.schemas.projects import ProjectCreate
        from cognova.services import projects
    except ImportError:
        return

    class ListProjectsInput(ToolInput):
        search: str | None = None

    @tool("list_projects", "List projects with their task counts.", ListProjectsInput)
    def list_projects(args, _ctx):
        return projects.list_projects(search=args.search)

    @tool("create_project", "Create a project (color as #rrggbb).", ProjectCreate)
    def create_project(args, ctx):
        return projects.one_out(projects.create_project(args, ctx.actor))


def _register_reminder_tools() -> None:
    try:
        from cognova.schemas.reminders import ReminderCreate, ReminderQuery
        from cognova.services import reminders
    except ImportError:
        return

    class ListRemindersInput(ToolInput):
        status: Literal["pending", "sent"] | None = None
        task_id: str | None = Field(None, alias="taskId")
        limit: int = Field(50, ge=1, le=200)

    @tool("create_reminder", "Create a reminder at a date-time (ISO-8601).", ReminderCreate)
    def create_reminder(args, _ctx):
        return reminders.reminder_out(reminders.create_reminder(args).id)

    @tool("list_reminders", "List reminders, soonest first.", ListRemindersInput)
    def list_reminders(args, _ctx):
        params = {"limit": str(args.limit)}
        if args.status:
            params["status"] = args.status
        if args.task_id:
            params["taskId"] = args.task_id
        try:
            query = ReminderQuery.model_validate(params)
        except ValidationError as exc:
            raise ServiceError("Validation failed", format_errors(exc)) from None
        page = reminders.list_reminders(query)
        return {"total": page.total, "reminders": page.items}


# ----------------------------------------------------------------- vault documents


def _register_document_tools() -> None:
    try:
        from cognova.services import files, search, sync, vault
    except ImportError:
        return
    from cognova.services.errors import field_error

    class SearchInput(ToolInput):
        query: Annotated[str, Field(min_length=1, max_length=500)]
        limit: int = Field(10, ge=1, le=50)

    class PathInput(ToolInput):
        path: Annotated[str, Field(min_length=1, description="vault-relative path")]

    class FolderInput(ToolInput):
        path: str = Field("", description="vault-relative folder; empty for the root")

    class WriteInput(ToolInput):
        path: Annotated[str, Field(min_length=1, description="vault-relative path ending in .md")]
        content: Annotated[str, Field(max_length=1_000_000)]
        mode: Literal["overwrite", "append"] = "overwrite"

    @tool("search_documents", "Full-text search over the vault's documents.", SearchInput)
    def search_documents(args, _ctx):
        return search.search(args.query, ["document"], args.limit)

    @tool("read_document", "Read a file of the vault.", PathInput)
    def read_document(args, _ctx):
        vp = vault.sandbox(args.path)
        vault.require_file(vp)
        data = vault.read_bytes(vp)
        try:
            return {"path": vp.rel, "content": data.decode("utf-8")}
        except UnicodeDecodeError:
            raise field_error("path", "is not a text file") from None

    @tool(
        "write_document",
        "Write or append to a markdown note in the vault (creates folders as needed).",
        WriteInput,
    )
    def write_document(args, ctx):
        vp = vault.sandbox(args.path)
        if vp.is_root or vp.hidden or not vp.rel.lower().endswith(".md"):
            raise field_error("path", "must name a visible markdown (.md) file")
        if vp.abs.is_dir():
            raise field_error("path", "must be a file, not a directory")
        data = args.content.encode("utf-8")
        if args.mode == "append" and vp.abs.exists():
            current = vault.read_bytes(vp)
            joiner = b"" if not current or current.endswith(b"\n") else b"\n"
            data = current + joiner + data
        files.atomic_write(vp.abs, data)
        row, action, _facts = sync.sync_file(vp, ctx.actor, data=data)
        return {"path": vp.rel, "documentId": str(row.id), "bytes": len(data), "action": action}

    @tool("list_folder", "List the files and folders of a vault folder.", FolderInput)
    def list_folder(args, _ctx):
        vp = vault.sandbox(args.path)
        if not vp.abs.is_dir():
            raise field_error("path", "must be an existing folder")
        entries = []
        for child in sorted(vp.abs.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower())):
            if child.name.startswith("."):
                continue
            rel = f"{vp.rel}/{child.name}" if vp.rel else child.name
            is_dir = child.is_dir()
            entries.append(
                {
                    "name": child.name,
                    "path": rel,
                    "type": "folder" if is_dir else "file",
                    "size": None if is_dir else child.stat().st_size,
                }
            )
        return {"path": vp.rel, "entries": entries}


def _register_memory_tools() -> None:
    try:
        from cognova.schemas.memory import MemoryStore
        from cognova.services import memory
    except ImportError:
        return

    class SearchMemoryInput(ToolInput):
        query: Annotated[str, Field(min_length=1, max_length=500)]
        limit: int = Field(10, ge=1, le=50)

    @tool("search_memory", "Search what Cognova remembers about the user.", SearchMemoryInput)
    def search_memory(args, _ctx):
        page = memory.search(query=args.query, limit=args.limit, count_access=True)
        return {"total": page.total, "memories": [memory.serialize(r) for r in page.items]}

    @tool(
        "store_memory",
        "Remember a fact, preference or decision about the user for later conversations.",
        MemoryStore,
    )
    def store_memory(args, _ctx):
        row, created = memory.store(
            args.content,
            args.chunk_type,
            session_id=args.session_id,
            project_path=args.project_path,
            source_excerpt=args.source_excerpt,
            relevance_score=args.relevance_score,
            expires_at=args.expires_at,
        )
        return {**memory.serialize(row), "duplicate": not created}


_register_task_tools()
_register_project_tools()
_register_reminder_tools()
_register_document_tools()
_register_memory_tools()
