#!/usr/bin/env python
"""Stand-alone ``usage-report``: the same command as ``flask usage-report``.

python scripts/usage_report.py --period 30d --group-by source --format csv -o usage.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cognova import create_app
from cognova.usage_report import usage_report_command


def main() -> None:
    app = create_app()
    with app.app_context():
        usage_report_command.main(prog_name="usage_report.py", standalone_mode=True)


if __name__ == "__main__":
    main()
