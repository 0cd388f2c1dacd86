"""Per-user settings (API.md §16): defaults deep-merged with a stored JSON object.

The stored object only holds what the user changed; ``effective`` lays it over ``DEFAULTS`` so a
key deleted with a merge-patch ``null`` falls back to its default. Keys the table does not know
are kept as sent: the web client stores its own remembered filters there.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.system import UserSettings
from cognova.services.errors import Invalid, TooLarge

MAX_BYTES = 64 * 1024

TASK_STATUSES = ("todo", "in_progress", "done", "blocked")
PERIODS = ("24h", "7d", "30d")
THEMES = ("light", "dark", "system")
EDITOR_MODES = ("editor", "code")

DEFAULTS: dict[str, Any] = {
    "notifications": {
        "webhookUrl": None,
        "preferences": {
            "task": {
                "enabled": True,
                "create": True,
                "edit": True,
                "delete": True,
                "restore": True,
            },
            "project": {
                "enabled": True,
                "create": True,
                "edit": True,
                "delete": True,
                "restore": True,
            },
            "reminder": {
                "enabled": True,
                "create": True,
                "edit": True,
                "delete": True,
                "complete": True,
            },
            "agent": {
                "enabled": True,
                "create": True,
                "edit": True,
                "delete": True,
                "run": True,
                "complete": True,
                "fail": True,
                "cancel": True,
            },
            "document": {
                "enabled": True,
                "create": True,
                "edit": True,
                "delete": True,
                "restore": True,
            },
            "memory": {"enabled": True, "create": True, "edit": True, "delete": True},
            "secret": {"enabled": True, "create": True, "edit": True, "delete": True},
            "hook": {"enabled": True, "create": False},
            "conversation": {"enabled": True, "create": False, "edit": False, "delete": True},
        },
    },
    "ui": {
        "theme": "system",
        "tasks": {"status": [], "projectId": None},
        "usage": {"period": "7d"},
        "agents": {"period": "7d"},
        "documents": {"editorMode": "editor", "lastOpenedPath": None},
    },
    "chat": {"model": "claude-sonnet-4-5"},
}

RESOURCES = tuple(DEFAULTS["notifications"]["preferences"])


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def size_of(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))


def deep_merge(base: dict, over: dict) -> dict:
    """*over* laid on *base*: objects merge recursively, arrays and scalars replace."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ------------------------------------------------------------------ storage


def _row(user_id: str) -> UserSettings | None:
    return db.session.scalar(sa.select(UserSettings).where(UserSettings.user_id == user_id))


def _parse(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def stored(user_id: str) -> dict:
    """The user's stored object (only what differs from the defaults, plus free-form keys)."""
    row = _row(user_id)
    return _parse(row.settings) if row is not None else {}


def effective(user_id: str) -> dict:
    return deep_merge(DEFAULTS, stored(user_id))


def get(user_id: str, dotted: str, default: Any = None) -> Any:
    """One effective value by dotted path, e.g. ``get(uid, "chat.model")``."""
    value: Any = effective(user_id)
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def apply_patch(user_id: str, patch: dict) -> dict:
    """Merge-patch the stored object, validate, save, and return the effective settings.

    Nothing is written when validation fails or the result is over 64 KiB. The caller commits.
    """
    if not isinstance(patch, dict):
        raise Invalid("Request body must be a JSON object")
    if size_of(patch) > MAX_BYTES:
        raise TooLarge("Settings object too large")
    if not patch:
        return effective(user_id)
    row = _row(user_id)
    current = _parse(row.settings) if row is not None else {}
    updated = merge_patch(current, patch)
    errors = validate(updated)
    if errors:
        raise Invalid("Validation failed", errors)
    text = dumps(updated)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TooLarge("Settings object too large")
    now = datetime.now(UTC)
    if row is None:
        row = UserSettings(id=uuid.uuid4(), user_id=user_id, settings=text, created_at=now)
        db.session.add(row)
    else:
        row.settings = text
    row.updated_at = now
    db.session.flush()
    return deep_merge(DEFAULTS, updated)


# ------------------------------------------------------------------ validation

URL_RE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _object(value: Any, path: str, errors: dict) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors[path] = "must be an object"
        return None
    return value


def _enum(obj: dict, key: str, path: str, allowed: tuple, errors: dict) -> None:
    if key in obj and obj[key] not in allowed:
        errors[path] = "must be one of: " + ", ".join(allowed)


def validate(value: dict) -> dict[str, str]:
    """Check the keys of the §16 table in a stored object; returns dotted-path errors."""
    errors: dict[str, str] = {}
    notifications = _object(value.get("notifications"), "notifications", errors)
    if notifications is not None:
        if "webhookUrl" in notifications:
            url = notifications["webhookUrl"]
            if url is not None and not (
                isinstance(url, str) and len(url) <= 2048 and URL_RE.match(url)
            ):
                errors["notifications.webhookUrl"] = (
                    "must be null or an http(s) URL of at most 2048 characters"
                )
        prefs = _object(notifications.get("preferences"), "notifications.preferences", errors)
        for resource, flags in (prefs or {}).items():
            path = f"notifications.preferences.{resource}"
            if resource not in RESOURCES:
                errors[path] = "is not a known resource"
                continue
            if not isinstance(flags, dict):
                errors[path] = "must be an object"
                continue
            allowed = DEFAULTS["notifications"]["preferences"][resource]
            for action, flag in flags.items():
                if action not in allowed:
                    errors[f"{path}.{action}"] = "is not an action of this resource"
                elif not isinstance(flag, bool):
                    errors[f"{path}.{action}"] = "must be a boolean"

    ui = _object(value.get("ui"), "ui", errors)
    if ui is not None:
        _enum(ui, "theme", "ui.theme", THEMES, errors)
        tasks = _object(ui.get("tasks"), "ui.tasks", errors)
        if tasks is not None:
            if "status" in tasks:
                status = tasks["status"]
                if not isinstance(status, list):
                    errors["ui.tasks.status"] = "must be an array"
                else:
                    for index, item in enumerate(status):
                        if item not in TASK_STATUSES:
                            errors[f"ui.tasks.status.{index}"] = "must be one of: " + ", ".join(
                                TASK_STATUSES
                            )
            if "projectId" in tasks:
                project = tasks["projectId"]
                valid = isinstance(project, str) and UUID_RE.match(project)
                if project is not None and not valid:
                    errors["ui.tasks.projectId"] = "must be a UUID or null"
        for area in ("usage", "agents"):
            section = _object(ui.get(area), f"ui.{area}", errors)
            if section is not None:
                _enum(section, "period", f"ui.{area}.period", PERIODS, errors)
        documents = _object(ui.get("documents"), "ui.documents", errors)
        if documents is not None:
            _enum(documents, "editorMode", "ui.documents.editorMode", EDITOR_MODES, errors)
            if "lastOpenedPath" in documents:
                path_value = documents["lastOpenedPath"]
                if path_value is not None and not isinstance(path_value, str):
                    errors["ui.documents.lastOpenedPath"] = "must be a string or null"

    chat = _object(value.get("chat"), "chat", errors)
    if chat is not None and "model" in chat:
        model = chat["model"]
        if not isinstance(model, str) or not 1 <= len(model) <= 100:
            errors["chat.model"] = "must be a string of 1 to 100 characters"
    return errors


# ------------------------------------------------------------------ webhook test

TEST_TIMEOUT_SECONDS = 5.0


def webhook_error(url: Any) -> str | None:
    if isinstance(url, str) and len(url) <= 2048 and URL_RE.match(url):
        return None
    return "must be an http(s) URL of at most 2048 characters"


def test_webhook(user_id: str, url: str | None = None) -> dict:
    """POST a sample payload shaped like ``reminder.fired`` (event ``test``) to *url* or the
    saved ``notifications.webhookUrl``, once, and report what came back."""
    import time

    import httpx

    from cognova.api.validation import iso_ms

    if url is None:
        url = get(user_id, "notifications.webhookUrl")
        if not url:
            raise Invalid("No webhook URL configured", {"url": "is required"})
    elif problem := webhook_error(url):
        raise Invalid("Validation failed", {"url": problem})
    now = datetime.now(UTC)
    payload = {
        "event": "test",
        "firedAt": iso_ms(now),
        "reminder": {
            "id": str(uuid.uuid4()),
            "message": "Test notification from Cognova",
            "remindAt": iso_ms(now),
            "taskId": None,
        },
        "task": None,
    }
    headers = {"Content-Type": "application/json", "X-Cognova-Event": "test"}
    started = time.perf_counter()
    status, error = None, None
    try:
        with httpx.Client(timeout=TEST_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.post(url, content=dumps(payload).encode(), headers=headers)
        status = response.status_code
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    return {
        "url": url,
        "ok": status is not None and 200 <= status < 300,
        "status": status,
        "error": error,
        "durationMs": round((time.perf_counter() - started) * 1000),
        "payload": payload,
    }
