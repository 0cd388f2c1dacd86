"""``flask install-claude-hooks``: merges into ~/.claude/settings.json without destroying it."""

from __future__ import annotations

import json
import stat

import pytest

from cognova.services import claude_hooks

EXISTING = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test:*)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/guard.sh"}]},
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}],
    },
}


def settings(claude_dir):
    return json.loads((claude_dir / "settings.json").read_text())


def backups(claude_dir):
    return sorted(p.name for p in claude_dir.glob("settings.json.cognova-backup-*"))


@pytest.fixture
def claude_dir(tmp_path):
    folder = tmp_path / ".claude"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps(EXISTING, indent=2))
    return folder


def test_install_merges_keeps_everything_and_backs_up(runner, claude_dir):
    result = runner.invoke(
        args=[
            "install-claude-hooks",
            "--claude-dir",
            str(claude_dir),
            "--url",
            "http://cognova.local:5000",
        ]
    )
    assert result.exit_code == 0, result.output
    data = settings(claude_dir)
    assert data["model"] == "opus" and data["permissions"] == EXISTING["permissions"]
    assert data["hooks"]["Notification"] == EXISTING["hooks"]["Notification"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == EXISTING["hooks"]["PreToolUse"][0]
    assert pre[1]["matcher"] == "*" and "cognova_hook.py" in pre[1]["hooks"][0]["command"]
    for event in (
        "SessionStart",
        "SessionEnd",
        "Stop",
        "PreCompact",
        "PostToolUse",
        "UserPromptSubmit",
    ):
        assert any(
            "cognova_hook.py" in h.get("command", "")
            for g in data["hooks"][event]
            for h in g["hooks"]
        )
    assert "matcher" not in data["hooks"]["SessionStart"][0]
    [backup] = backups(claude_dir)
    assert json.loads((claude_dir / backup).read_text()) == EXISTING
    script = claude_dir / "hooks" / "cognova" / "cognova_hook.py"
    assert script.read_text() == claude_hooks.SCRIPT_SOURCE.read_text()
    assert script.stat().st_mode & stat.S_IXUSR
    config_file = claude_dir / "cognova-hooks.json"
    config = json.loads(config_file.read_text())
    assert (
        config["url"] == "http://cognova.local:5000" and config["token"] and config["timeout"] <= 2
    )
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert "Backed up" in result.output


def test_install_is_idempotent(runner, claude_dir):
    args = ["install-claude-hooks", "--claude-dir", str(claude_dir)]
    runner.invoke(args=args)
    first = settings(claude_dir)
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "already up to date" in result.output
    assert settings(claude_dir) == first
    assert len(backups(claude_dir)) == 1


def test_switching_modes_replaces_the_entries(runner, app, claude_dir):
    runner.invoke(args=["install-claude-hooks", "--claude-dir", str(claude_dir)])
    result = runner.invoke(
        args=[
            "install-claude-hooks",
            "--claude-dir",
            str(claude_dir),
            "--mode",
            "http",
            "--url",
            "http://h:1/",
        ]
    )
    assert result.exit_code == 0, result.output
    data = settings(claude_dir)
    ours = [
        h
        for groups in data["hooks"].values()
        for g in groups
        for h in g["hooks"]
        if h["type"] == "http"
    ]
    assert len(ours) == len(claude_hooks.HOOKED_EVENTS)
    assert ours[0]["url"] == "http://h:1/api/hooks/claude"
    assert ours[0]["headers"] == {"X-API-Token": app.config["API_TOKEN"]}
    assert not any(
        "cognova_hook.py" in json.dumps(g) for groups in data["hooks"].values() for g in groups
    )


def test_uninstall_restores_the_users_settings(runner, claude_dir):
    runner.invoke(args=["install-claude-hooks", "--claude-dir", str(claude_dir)])
    result = runner.invoke(
        args=["install-claude-hooks", "--claude-dir", str(claude_dir), "--uninstall"]
    )
    assert result.exit_code == 0, result.output
    assert settings(claude_dir) == EXISTING
    assert not (claude_dir / "hooks" / "cognova").exists()
    assert not (claude_dir / "cognova-hooks.json").exists()
    assert len(backups(claude_dir)) == 2


def test_install_without_settings_creates_them(runner, tmp_path):
    folder = tmp_path / "fresh"
    result = runner.invoke(args=["install-claude-hooks", "--claude-dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert set(settings(folder)) == {"hooks"}
    assert backups(folder) == []
    runner.invoke(args=["install-claude-hooks", "--claude-dir", str(folder), "--uninstall"])
    assert settings(folder) == {}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_invalid_settings_are_left_alone(runner, tmp_path, content):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "settings.json").write_text(content)
    result = runner.invoke(args=["install-claude-hooks", "--claude-dir", str(folder)])
    assert result.exit_code != 0 and "nothing was changed" in result.output
    assert (folder / "settings.json").read_text() == content


def test_strip_keeps_foreign_hooks_sharing_a_group():
    mixed = {
        "hooks": {
            "Stop": [
                {
                    "hooks": [
                        {"type": "command", "command": "say done"},
                        {"type": "command", "command": 'python3 "/x/cognova_hook.py"'},
                    ]
                }
            ]
        }
    }
    assert claude_hooks.strip_entries(mixed) == {
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}
    }


def test_the_standalone_script_exists():
    from pathlib import Path

    script = (
        Path(claude_hooks.__file__).resolve().parents[2] / "scripts" / "install_claude_hooks.py"
    )
    assert "install_claude_hooks_command" in script.read_text()
