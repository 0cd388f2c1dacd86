#!/usr/bin/env python
"""Stand-alone ``seed-admin``: the same command as ``flask --app app seed-admin``.

python scripts/seed_admin.py [--email E] [--name N] [--password P] [--reset-password]

Creates the admin from ADMIN_EMAIL/ADMIN_PASSWORD/ADMIN_NAME (or the options) when it does not
exist; does nothing when it does, unless --reset-password. A generated password is printed once.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cognova import create_app
from cognova.cli import seed_admin_command


def main() -> None:
    app = create_app()
    with app.app_context():
        # The flask command needs an app context; it is the same code path as `flask seed-admin`.
        seed_admin_command.main(prog_name="seed_admin.py", standalone_mode=True)


if __name__ == "__main__":
    main()
