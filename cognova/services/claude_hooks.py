"""Claude Code's native hook input (the JSON its hooks receive on stdin, or as the body of an
``http`` hook) mapped onto Cognova: analytics rows, the memory context for SessionStart, and
memory extraction when a session stops or compacts.

Only the six event types of ``hook_events`` are stored (the column's enum is fixed); other
events (Stop, PreCompact, Notification, …) are answered without a row, but still acted on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cognova.extensions import redis_client, redis_key
from cognova.schemas.hooks import EVENT_TYPES, MAX_EVENT_DATA, serialise_event_data
from cognova.services import hooks, memory
from cognova.services.errors import ServiceError

log = logging.getLogger(__name__)

MAPPED_KEYS = ("hook_event_name", "session_id", "cwd", "tool_name")
EXTRACT_ON = ("Stop", "PreCompact")
# Stop fires after every reply; extracting each time would double the cost of a session.
STOP_EXTRACTION_EVERY = 300  # seconds, per session
ONBOARDING = (
    "Cognova memory is connected but holds no memories yet. As you work, make the user's "
    "preferences, decisions and key facts about this project explicit in the conversation: "
    "when the session stops they are extracted into Cognova and given back to you at the "
    "start of the next session."
)


def _text(value, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _event_data(payload: dict) -> str | None:
    """Everything not mapped to a column, as JSON; oversized values (a tool's whole output) are
    replaced by a note so the row stays within the 256 KiB that the events API allows."""
    rest = {k: v for k, v in payload.items() if k not in MAPPED_KEYS}
    if not rest:
        return None
    encoded = serialise_event_data(rest)
    if len(encoded.encode()) <= MAX_EVENT_DATA:
        return encoded
    sizes = sorted(rest, key=lambda k: len(serialise_event_data(rest[k])), reverse=True)
    for key in sizes:
        rest[key] = {"truncated": True, "bytes": len(serialise_event_data(rest[key]).encode())}
        encoded = serialise_event_data(rest)
        if len(encoded.encode()) <= MAX_EVENT_DATA:
            break
    return encoded


def session_start_context(project: str | None) -> str:
    """What Claude is told at the start of a session: the memory context, or the onboarding
    note when there is nothing to recall yet."""
    formatted = memory.context_text(project)
    return formatted or ONBOARDING


def _queue_extraction(payload: dict) -> str | None:
    from cognova.services import memory_extraction

    path = payload.get("transcript_path")
    if not isinstance(path, str) or not path.strip():
        return None
    session = _text(payload.get("session_id"), 255)
    if payload.get("hook_event_name") == "Stop" and session:
        key = redis_key("memory", "hook-extraction", session)
        if not redis_client().set(key, "1", nx=True, ex=STOP_EXTRACTION_EVERY):
            return None
    try:
        _transcript, real = memory_extraction.check_request(None, path)
        job = memory_extraction.enqueue(None, real, session, _text(payload.get("cwd"), 1000))
    except ServiceError as exc:  # no key, or a path the app may not read: Claude carries on
        log.info("hook extraction skipped: %s", exc.message)
        return None
    return job.id


def handle(payload: dict) -> dict:
    """Answer one native hook call with Claude Code's hook-output JSON."""
    name = payload.get("hook_event_name")
    if name in EVENT_TYPES:
        hooks.record(
            name,
            session_id=_text(payload.get("session_id"), 255),
            project_dir=_text(payload.get("cwd"), 4096),
            tool_name=_text(payload.get("tool_name"), 255),
            event_data_json=_event_data(payload),
        )
    if name in EXTRACT_ON:
        _queue_extraction(payload)
    if name == "SessionStart":
        context = session_start_context(_text(payload.get("cwd"), 1000))
        return {
            "hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": context}
        }
    return {}


# ------------------------------------------------------------------ installation

SCRIPT_NAME = "cognova_hook.py"
SCRIPT_SOURCE = Path(__file__).resolve().parents[2] / "scripts" / "claude_hooks" / SCRIPT_NAME
CONFIG_NAME = "cognova-hooks.json"
HTTP_PATH = "/api/hooks/claude"
# event → matcher (None: the event takes no matcher)
HOOKED_EVENTS = {
    "SessionStart": None,
    "UserPromptSubmit": None,
    "PreToolUse": "*",
    "PostToolUse": "*",
    "PostToolUseFailure": "*",
    "Stop": None,
    "PreCompact": None,
    "SessionEnd": None,
}


@dataclass
class InstallReport:
    settings_path: Path
    changed: bool
    backup: Path | None
    script: Path | None
    config: Path | None


def _is_ours(hook: dict) -> bool:
    if not isinstance(hook, dict):
        return False
    if hook.get("type") == "command":
        return SCRIPT_NAME in str(hook.get("command", ""))
    if hook.get("type") == "http":
        return str(hook.get("url", "")).rstrip("/").endswith(HTTP_PATH)
    return False


def strip_entries(settings: dict) -> dict:
    """*settings* without Cognova's hook entries; everything else is kept as it was."""
    hooks_ = settings.get("hooks")
    if not isinstance(hooks_, dict):
        return settings
    cleaned = {}
    for event, groups in hooks_.items():
        if not isinstance(groups, list):
            cleaned[event] = groups
            continue
        kept_groups = []
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                kept_groups.append(group)
                continue
            kept = [h for h in group["hooks"] if not _is_ours(h)]
            if kept or len(kept) == len(group["hooks"]):
                kept_groups.append({**group, "hooks": kept})
        if kept_groups or not groups:
            cleaned[event] = kept_groups
    result = {**settings, "hooks": cleaned}
    if not cleaned:
        result.pop("hooks")
    return result


def _entry(mode: str, event: str, url: str, token: str, command: str) -> dict:
    if mode == "http":
        return {
            "type": "http",
            "url": url.rstrip("/") + HTTP_PATH,
            "headers": {"X-API-Token": token},
            "timeout": 5,
        }
    return {"type": "command", "command": command, "timeout": 10}


def add_entries(settings: dict, mode: str, url: str, token: str, command: str) -> dict:
    result = strip_entries(settings)
    hooks_ = dict(result.get("hooks") or {})
    for event, matcher in HOOKED_EVENTS.items():
        group: dict = {"hooks": [_entry(mode, event, url, token, command)]}
        if matcher is not None:
            group = {"matcher": matcher, **group}
        existing = hooks_.get(event)
        hooks_[event] = [*(existing if isinstance(existing, list) else []), group]
    return {**result, "hooks": hooks_}


def _write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _read_settings(path: Path) -> tuple[dict, str | None]:
    if not path.exists():
        return {}, None
    raw = path.read_text(encoding="utf-8")
    if not raw.strip():
        return {}, raw
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(
            f"{path} is not valid JSON ({exc}); fix it first, nothing was changed"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} is not a JSON object; nothing was changed")
    return value, raw


def _save_settings(path: Path, before: str | None, settings: dict) -> tuple[bool, Path | None]:
    text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    if before is not None and json.loads(before or "{}") == settings:
        return False, None
    backup = None
    if before is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = path.with_name(f"{path.name}.cognova-backup-{stamp}")
        shutil.copy2(path, backup)
    _write_atomic(path, text)
    return True, backup


def install(
    claude_dir: Path,
    url: str,
    token: str,
    *,
    mode: str = "command",
    python: str = "python3",
) -> InstallReport:
    """Write the hook script and its config, and merge Cognova's entries into settings.json
    (backed up first; running it again changes nothing)."""
    if mode not in ("command", "http"):
        raise ValueError("mode must be command or http")
    claude_dir = claude_dir.expanduser()
    settings_path = claude_dir / "settings.json"
    settings, before = _read_settings(settings_path)
    script = config = None
    command = ""
    if mode == "command":
        script = claude_dir / "hooks" / "cognova" / SCRIPT_NAME
        script.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(script, SCRIPT_SOURCE.read_text(encoding="utf-8"), 0o755)
        config = claude_dir / CONFIG_NAME
        payload = {"url": url.rstrip("/"), "token": token, "timeout": 2}
        _write_atomic(config, json.dumps(payload, indent=2) + "\n", 0o600)
        command = f'{python} "{script}"'
    changed, backup = _save_settings(
        settings_path, before, add_entries(settings, mode, url, token, command)
    )
    return InstallReport(settings_path, changed, backup, script, config)


def uninstall(claude_dir: Path) -> InstallReport:
    """Remove Cognova's entries (settings backed up first), its script and its config."""
    claude_dir = claude_dir.expanduser()
    settings_path = claude_dir / "settings.json"
    settings, before = _read_settings(settings_path)
    changed, backup = (False, None)
    if before is not None:
        changed, backup = _save_settings(settings_path, before, strip_entries(settings))
    script_dir = claude_dir / "hooks" / "cognova"
    if script_dir.exists():
        shutil.rmtree(script_dir)
    with contextlib.suppress(FileNotFoundError):
        (claude_dir / CONFIG_NAME).unlink()
    return InstallReport(settings_path, changed, backup, None, None)
