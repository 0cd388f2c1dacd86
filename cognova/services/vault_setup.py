"""The vault folder a new installation starts with."""

from __future__ import annotations

from pathlib import Path

from cognova.services.files import atomic_write

WELCOME = """---
title: Welcome to Cognova
tags: [cognova]
---
# Welcome to Cognova

This is your vault: plain markdown files in a folder you own. Edit them here or in any editor;
Cognova keeps its index in step.

- **Tasks** keep what you have to do, with projects and reminders.
- **Chat** talks to Claude, who can read and write your notes and tasks.
- **Agents** run Claude on a schedule, within a budget you set.
- **Memory** carries what matters from one conversation to the next.

Press <kbd>Ctrl</kbd>+<kbd>K</kbd> anywhere to search.
"""


def ensure_welcome_note(root: Path) -> None:
    """Write the welcome note into an empty vault, atomically."""
    root.mkdir(parents=True, exist_ok=True)
    if any(not entry.name.startswith(".") for entry in root.iterdir()):
        return
    atomic_write(root / "Welcome.md", WELCOME.encode())
