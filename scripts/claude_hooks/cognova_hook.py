#!/usr/bin/env python3
"""Cognova's Claude Code hook: one script for every hook event, standard library only.

Claude Code runs it with the hook input JSON on stdin. What it does depends on
``hook_event_name``:

* SessionStart: logs the event, then prints the memory context for the project (Claude Code
  adds a SessionStart hook's stdout to the session's context), or an onboarding note when
  there are no memories yet.
* Stop, PreCompact: asks Cognova to extract memories from ``transcript_path`` (Stop at most once
  every five minutes per session, since it fires after every reply). Never blocks Claude.
* PreToolUse, PostToolUse, PostToolUseFailure: logs the tool, its timing (PreToolUse to
  PostToolUse) and whether it was blocked. With ``--wrap COMMAND`` it runs another hook command
  with the same stdin, passes its output through and exits with its exit code (2 = blocked).
* SessionEnd, UserPromptSubmit: logs the event.

Settings come from ``~/.claude/cognova-hooks.json`` (written by ``flask install-claude-hooks``;
``COGNOVA_HOOKS_CONFIG`` names another file): ``{"url": …, "token": …, "timeout": 2}``.
Every request has a short timeout, and every failure is reported on stderr and otherwise
ignored: Cognova being down must never get in Claude's way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DEFAULT_CONFIG = Path.home() / ".claude" / "cognova-hooks.json"
MAX_TIMEOUT = 2.0
STOP_EVERY = 300  # seconds between Stop-triggered extractions of one session
LOGGED = {
    "SessionStart",
    "SessionEnd",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "UserPromptSubmit",
}
TOOL_EVENTS = {"PreToolUse", "PostToolUse", "PostToolUseFailure"}
ONBOARDING = (
    "Cognova memory is connected but holds no memories yet. As you work, make the user's "
    "preferences, decisions and key facts about this project explicit in the conversation: "
    "when the session stops they are extracted into Cognova and given back to you at the "
    "start of the next session."
)
MAX_VALUE_CHARS = 4000  # tool inputs/outputs are summarised, not copied whole


def warn(message: str) -> None:
    print(f"cognova hook: {message}", file=sys.stderr)


def load_config() -> dict | None:
    path = Path(os.environ.get("COGNOVA_HOOKS_CONFIG") or DEFAULT_CONFIG).expanduser()
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warn(f"no usable config at {path} ({exc.__class__.__name__})")
        return None
    if not isinstance(config, dict) or not config.get("url") or not config.get("token"):
        warn(f"{path} needs url and token")
        return None
    return config


class Cognova:
    def __init__(self, config: dict):
        self.base = str(config["url"]).rstrip("/")
        self.token = str(config["token"])
        try:
            timeout = float(config.get("timeout") or MAX_TIMEOUT)
        except (TypeError, ValueError):
            timeout = MAX_TIMEOUT
        self.timeout = min(max(timeout, 0.1), MAX_TIMEOUT)

    def call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"X-API-Token": self.token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8") or "null")
        except urllib.error.HTTPError as exc:
            warn(f"{method} {path} answered {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            warn(f"{method} {path} failed: {exc}")
        return None


# ------------------------------------------------------------------ helpers


def _short(value):
    """A tool input or output, cut down so a log row stays small."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= MAX_VALUE_CHARS:
        return value
    return {"truncated": True, "chars": len(text), "head": text[:MAX_VALUE_CHARS]}


def _state_dir() -> Path:
    path = (
        Path(tempfile.gettempdir())
        / f"cognova-hooks-{os.getuid() if hasattr(os, 'getuid') else 'u'}"
    )
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _safe_name(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in value)[:120]


def remember_tool_start(tool_use_id: str | None) -> None:
    if not tool_use_id:
        return
    with contextlib.suppress(OSError):
        (_state_dir() / f"tool-{_safe_name(tool_use_id)}").write_text(str(time.time()))


def tool_duration_ms(tool_use_id: str | None) -> int | None:
    """Milliseconds since the PreToolUse of this tool call, if it was seen."""
    if not tool_use_id:
        return None
    marker = _state_dir() / f"tool-{_safe_name(tool_use_id)}"
    try:
        started = float(marker.read_text())
        marker.unlink()
    except (OSError, ValueError):
        return None
    return max(0, int((time.time() - started) * 1000))


def stop_is_due(session_id: str | None) -> bool:
    if not session_id:
        return True
    marker = _state_dir() / f"stop-{_safe_name(session_id)}"
    try:
        if time.time() - marker.stat().st_mtime < STOP_EVERY:
            return False
    except OSError:
        pass
    with contextlib.suppress(OSError):
        marker.write_text("")
    return True


def run_wrapped(command: str, raw: bytes) -> tuple[int, bytes, bytes, int]:
    """Run another hook command with the same stdin: (exit code, stdout, stderr, ms)."""
    started = time.monotonic()
    try:
        done = subprocess.run(command, shell=True, input=raw, capture_output=True, check=False)
        code, out, err = done.returncode, done.stdout, done.stderr
    except OSError as exc:
        code, out, err = 1, b"", f"cognova hook: could not run {command}: {exc}\n".encode()
    return code, out, err, int((time.monotonic() - started) * 1000)


def _denied(stdout: bytes) -> str | None:
    """A wrapped hook may also block through JSON output instead of exit code 2."""
    try:
        output = json.loads(stdout.decode("utf-8") or "null")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(output, dict):
        return None
    specific = (
        output.get("hookSpecificOutput")
        if isinstance(output.get("hookSpecificOutput"), dict)
        else {}
    )
    if specific.get("permissionDecision") == "deny":
        return str(specific.get("permissionDecisionReason") or "denied")
    if output.get("decision") == "block":
        return str(output.get("reason") or "blocked")
    return None


# ------------------------------------------------------------------ events


def log_event(api: Cognova, event: dict, **extra) -> None:
    name = event.get("hook_event_name")
    data = {
        k: v
        for k, v in event.items()
        if k not in ("hook_event_name", "session_id", "cwd", "tool_name", "prompt")
    }
    for key in ("tool_input", "tool_response"):
        if key in data:
            data[key] = _short(data[key])
    if isinstance(event.get("prompt"), str):
        data["promptChars"] = len(event["prompt"])  # the size, not the words
    body = {
        "eventType": name,
        "sessionId": event.get("session_id"),
        "projectDir": event.get("cwd"),
        "toolName": event.get("tool_name"),
        "eventData": data,
        "hookScript": os.path.abspath(__file__),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    api.call("POST", "/api/hooks/events", body)


def session_start(api: Cognova, event: dict) -> None:
    log_event(api, event)
    query = urllib.parse.urlencode({"project": event["cwd"]}) if event.get("cwd") else ""
    answer = api.call("GET", "/api/memory/context" + (f"?{query}" if query else ""))
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        return  # unreachable: say nothing rather than something wrong
    formatted = answer["data"].get("formatted") or ""
    sys.stdout.write(formatted if formatted else ONBOARDING + "\n")


def extract(api: Cognova, event: dict) -> None:
    path = event.get("transcript_path")
    if not isinstance(path, str) or not path:
        return
    if event.get("hook_event_name") == "Stop" and not stop_is_due(event.get("session_id")):
        return
    api.call(
        "POST",
        "/api/memory/extract",
        {
            "transcriptPath": path,
            "sessionId": event.get("session_id"),
            "projectPath": event.get("cwd"),
        },
    )


def tool_event(api: Cognova, event: dict, raw: bytes, wrap: str | None, matcher: str | None) -> int:
    name = event.get("hook_event_name")
    code, blocked, reason, hook_ms = 0, False, None, None
    if wrap:
        code, out, err, hook_ms = run_wrapped(wrap, raw)
        sys.stdout.buffer.write(out)
        sys.stderr.buffer.write(err)
        sys.stdout.flush()
        sys.stderr.flush()
        denied = _denied(out)
        blocked = code == 2 or denied is not None
        if blocked:
            reason = (denied or err.decode("utf-8", "replace").strip() or "blocked")[:2000]
    tool_ms = None
    if name == "PreToolUse" and not blocked:
        remember_tool_start(event.get("tool_use_id"))
    elif name != "PreToolUse":
        tool_ms = tool_duration_ms(event.get("tool_use_id"))
    try:
        log_event(
            api,
            {**event, "toolDurationMs": tool_ms} if tool_ms is not None else event,
            toolMatcher=matcher,
            exitCode=code if wrap else None,
            blocked=blocked,
            blockReason=reason,
            durationMs=hook_ms if hook_ms is not None else tool_ms,
        )
    except Exception as exc:  # the wrapped hook's verdict stands whatever happens here
        warn(f"unexpected {exc.__class__.__name__}: {exc}")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cognova hook for Claude Code")
    parser.add_argument("--wrap", help="another hook command to run and keep the exit code of")
    parser.add_argument("--matcher", help="the matcher this hook is registered under")
    args = parser.parse_args(argv)
    raw = sys.stdin.buffer.read()
    try:
        event = json.loads(raw.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        event = None
    if not isinstance(event, dict):
        warn("stdin is not a hook input object")
        if args.wrap:  # the wrapped hook still decides
            code, out, err, _ms = run_wrapped(args.wrap, raw)
            sys.stdout.buffer.write(out)
            sys.stderr.buffer.write(err)
            return code
        return 0
    config = load_config()
    name = event.get("hook_event_name")
    if config is None:
        if args.wrap:
            code, out, err, _ms = run_wrapped(args.wrap, raw)
            sys.stdout.buffer.write(out)
            sys.stderr.buffer.write(err)
            return code
        return 0
    api = Cognova(config)
    try:
        if name in TOOL_EVENTS:
            return tool_event(api, event, raw, args.wrap, args.matcher)
        if args.wrap:  # wrapping is for tool hooks, but never swallow a wrapped verdict
            code, out, err, _ms = run_wrapped(args.wrap, raw)
            sys.stdout.buffer.write(out)
            sys.stderr.buffer.write(err)
            if name in LOGGED:
                log_event(api, event, exitCode=code)
            return code
        if name == "SessionStart":
            session_start(api, event)
        elif name in ("Stop", "PreCompact"):
            extract(api, event)
        elif name in LOGGED:
            log_event(api, event)
    except Exception as exc:  # a bug here must not stop Claude
        warn(f"unexpected {exc.__class__.__name__}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
