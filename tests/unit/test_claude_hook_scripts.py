"""The Claude Code hook script, run as Claude Code runs it: a subprocess fed the hook input JSON on
stdin, talking to the live test server through its config file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import HookEvent
from cognova.services.claude_hooks import ONBOARDING, SCRIPT_SOURCE
from tests.conftest import API_TOKEN

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude_hooks"


def payload(name: str, **changes) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(changes)
    return data


@pytest.fixture
def hook_env(tmp_path, live_server, user):
    config = tmp_path / "cognova-hooks.json"
    config.write_text(json.dumps({"url": live_server.url, "token": API_TOKEN, "timeout": 2}))
    env = {**os.environ, "COGNOVA_HOOKS_CONFIG": str(config), "TMPDIR": str(tmp_path)}
    return env


def run_hook(env, data, *args, raw: bytes | None = None, timeout: float = 15):
    stdin = raw if raw is not None else json.dumps(data).encode()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(SCRIPT_SOURCE), *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    done.elapsed = time.monotonic() - started
    return done


def events(app):
    with app.app_context():
        rows = list(db.session.scalars(sa.select(HookEvent).order_by(HookEvent.created_at)))
        db.session.remove()
        return rows


def test_the_script_uses_only_the_standard_library():
    source = SCRIPT_SOURCE.read_text()
    imported = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from ")) and not line.startswith("from __future__")
    }
    assert imported <= set(sys.stdlib_module_names)


def test_session_start_logs_and_prints_the_memory_context(app, api, hook_env):
    api.post("/api/memory/store", json={"content": "Prefers pnpm", "chunkType": "preference"})
    api.post(
        "/api/memory/store",
        json={"content": "App runs on Fly", "chunkType": "fact", "projectPath": "/home/ada/app"},
    )
    done = run_hook(hook_env, payload("SessionStart"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == (
        "2 memories loaded:\n\n### Preferences\n- Prefers pnpm\n\n"
        "### Key Facts\n- App runs on Fly\n"
    )
    [row] = events(app)
    assert (row.event_type, row.session_id, row.project_dir) == (
        "SessionStart",
        "2f1c6a0e-5b7d-4c1e-9a43-0d8f6b2e7c11",
        "/home/ada/app",
    )
    assert json.loads(row.event_data)["source"] == "startup"
    assert row.hook_script.endswith("cognova_hook.py")


def test_session_start_without_memories_prints_the_onboarding_prompt(hook_env):
    done = run_hook(hook_env, payload("SessionStart"))
    assert done.returncode == 0
    assert done.stdout.decode() == ONBOARDING + "\n"


def test_prompt_and_session_end_are_logged_without_the_prompt_text(app, hook_env):
    assert run_hook(hook_env, payload("UserPromptSubmit")).returncode == 0
    assert run_hook(hook_env, payload("SessionEnd")).returncode == 0
    prompt, end = events(app)
    assert prompt.event_type == "UserPromptSubmit"
    data = json.loads(prompt.event_data)
    assert data["promptChars"] == len("Add a test for the login form") and "prompt" not in data
    assert (
        end.event_type == "SessionEnd"
        and json.loads(end.event_data)["reason"] == "prompt_input_exit"
    )


def test_tool_use_is_logged_with_its_timing(app, hook_env):
    assert run_hook(hook_env, payload("PreToolUse"), "--matcher", "*").returncode == 0
    time.sleep(0.05)
    assert run_hook(hook_env, payload("PostToolUse")).returncode == 0
    assert run_hook(hook_env, payload("PostToolUseFailure")).returncode == 0
    pre, post, failure = events(app)
    assert (pre.event_type, pre.tool_name, pre.tool_matcher, pre.blocked) == (
        "PreToolUse",
        "Bash",
        "*",
        False,
    )
    assert post.event_type == "PostToolUse" and post.duration_ms >= 50
    assert json.loads(post.event_data)["toolDurationMs"] == post.duration_ms
    assert json.loads(post.event_data)["tool_response"]["stdout"] == "12 passing"
    assert failure.event_type == "PostToolUseFailure" and failure.duration_ms is None


def test_wrapping_a_blocking_hook_keeps_exit_code_2_and_passes_stdin(app, hook_env, tmp_path):
    guard = tmp_path / "guard.py"
    guard.write_text(
        "import json, sys\n"
        "event = json.load(sys.stdin)\n"
        "print('saw ' + event['tool_input']['command'])\n"
        "print('rm is not allowed', file=sys.stderr)\n"
        "sys.exit(2)\n"
    )
    done = run_hook(hook_env, payload("PreToolUse"), "--wrap", f'{sys.executable} "{guard}"')
    assert done.returncode == 2
    assert done.stdout.decode() == "saw npm test\n"
    assert "rm is not allowed" in done.stderr.decode()
    [row] = events(app)
    assert row.blocked is True and row.exit_code == 2
    assert row.block_reason == "rm is not allowed"
    assert row.duration_ms is not None


def test_wrapping_an_allowing_hook_and_a_json_deny(app, hook_env, tmp_path):
    allow = tmp_path / "allow.py"
    allow.write_text("import sys\nsys.stdin.read()\n")
    assert (
        run_hook(
            hook_env, payload("PreToolUse"), "--wrap", f'{sys.executable} "{allow}"'
        ).returncode
        == 0
    )
    deny = tmp_path / "deny.py"
    deny.write_text(
        "import json, sys\nsys.stdin.read()\n"
        "print(json.dumps({'hookSpecificOutput': {'hookEventName': 'PreToolUse', "
        "'permissionDecision': 'deny', 'permissionDecisionReason': 'no network'}}))\n"
    )
    done = run_hook(hook_env, payload("PreToolUse"), "--wrap", f'{sys.executable} "{deny}"')
    assert done.returncode == 0 and "permissionDecision" in done.stdout.decode()
    allowed, denied = events(app)
    assert (allowed.blocked, allowed.exit_code) == (False, 0)
    assert (denied.blocked, denied.block_reason) == (True, "no network")


def test_stop_and_pre_compact_send_the_transcript_for_extraction(app, hook_env):
    from rq.job import Job

    from cognova.extensions import queue

    projects = app.config["CLAUDE_PROJECTS_DIR"]
    projects.mkdir(parents=True, exist_ok=True)
    transcript = projects / "session.jsonl"
    transcript.write_text('{"type":"user","message":{"role":"user","content":"hi"}}\n')
    app.config["ANTHROPIC_API_KEY"] = "test-key"
    try:
        stop = payload("Stop", transcript_path=str(transcript))
        assert run_hook(hook_env, stop).returncode == 0
        assert run_hook(hook_env, stop).returncode == 0  # within five minutes: not again
        assert (
            run_hook(hook_env, payload("PreCompact", transcript_path=str(transcript))).returncode
            == 0
        )
        with app.app_context():
            jobs = [Job.fetch(i, connection=queue().connection) for i in queue("default").job_ids]
    finally:
        app.config["ANTHROPIC_API_KEY"] = None
    assert len(jobs) == 2
    assert {job.kwargs["project_path"] for job in jobs} == {"/home/ada/app"}
    assert events(app) == []  # Stop and PreCompact are not hook_events types


def test_stop_never_blocks_even_when_the_server_refuses(hook_env):
    done = run_hook(hook_env, payload("Stop", transcript_path="/etc/passwd"))
    assert done.returncode == 0 and done.stdout == b""
    assert b"answered 403" in done.stderr


def test_an_unreachable_server_fails_fast_and_silently(tmp_path):
    config = tmp_path / "c.json"
    # a non-routable address: connecting would hang without the script's own timeout
    config.write_text(json.dumps({"url": "http://10.255.255.1:9", "token": "t", "timeout": 30}))
    env = {**os.environ, "COGNOVA_HOOKS_CONFIG": str(config), "TMPDIR": str(tmp_path)}
    done = run_hook(env, payload("SessionEnd"))
    assert done.returncode == 0 and done.stdout == b""
    assert done.elapsed < 5
    assert b"cognova hook:" in done.stderr


def test_a_wrong_token_or_missing_config_still_exits_0(tmp_path, live_server, user):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"url": live_server.url, "token": "wrong"}))
    env = {**os.environ, "COGNOVA_HOOKS_CONFIG": str(config), "TMPDIR": str(tmp_path)}
    done = run_hook(env, payload("SessionStart"))
    assert done.returncode == 0 and done.stdout == b"" and b"401" in done.stderr
    env["COGNOVA_HOOKS_CONFIG"] = str(tmp_path / "missing.json")
    assert run_hook(env, payload("PreToolUse")).returncode == 0


def test_missing_config_still_honours_a_wrapped_verdict(tmp_path):
    env = {
        **os.environ,
        "COGNOVA_HOOKS_CONFIG": str(tmp_path / "missing.json"),
        "TMPDIR": str(tmp_path),
    }
    done = run_hook(env, payload("PreToolUse"), "--wrap", "exit 2")
    assert done.returncode == 2


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b"\xff\xfe"])
def test_garbage_on_stdin_exits_0(hook_env, raw):
    done = run_hook(hook_env, None, raw=raw)
    assert done.returncode == 0 and done.stdout == b""


def test_unknown_events_are_ignored(app, hook_env):
    done = run_hook(
        hook_env, {**payload("SessionEnd"), "hook_event_name": "Notification", "message": "hi"}
    )
    assert done.returncode == 0
    assert events(app) == []
