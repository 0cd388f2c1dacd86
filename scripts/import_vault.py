#!/usr/bin/env python
"""Stand-alone ``import-vault``: the same command as ``flask import-vault``.

python scripts/import_vault.py ~/notes [--into imported] [--dry-run]
python scripts/import_vault.py "$VAULT_PATH" --in-place

Copies a folder of markdown into the vault (or, with --in-place, syncs the vault folder itself),
shows a progress bar and a summary, and exits 1 if any file failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cognova import create_app
from cognova.vault_import import import_vault_command


def main() -> None:
    app = create_app()
    with app.app_context():
        import_vault_command.main(prog_name="import_vault.py", standalone_mode=True)


if __name__ == "__main__":
    main()
