#!/usr/bin/env python
"""Stand-alone ``install-claude-hooks``: the same command as ``flask install-claude-hooks``.

python scripts/install_claude_hooks.py                       # command hooks in ~/.claude
python scripts/install_claude_hooks.py --mode http           # Claude Code posts to the API
python scripts/install_claude_hooks.py --uninstall
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cognova import create_app
from cognova.cli import install_claude_hooks_command


def main() -> None:
    app = create_app()
    with app.app_context():
        install_claude_hooks_command.main(prog_name="install_claude_hooks.py", standalone_mode=True)


if __name__ == "__main__":
    main()
