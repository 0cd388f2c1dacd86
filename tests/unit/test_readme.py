"""The README documents every setting the code reads, and keeps the two commands on top."""

from __future__ import annotations

import re

from cognova.config import ROOT

SOURCES = ("cognova/config.py", "gunicorn.conf.py")


def _settings_read() -> set[str]:
    names = set()
    for source in SOURCES:
        text = (ROOT / source).read_text()
        names.update(re.findall(r"""env\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
    return names


def test_every_environment_variable_is_in_the_configuration_table():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    settings = _settings_read()
    assert len(settings) > 20
    missing = sorted(name for name in settings if f"`{name}`" not in table)
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_the_two_commands_come_first():
    readme = (ROOT / "README.md").read_text()
    first_section = readme.split("\n## ", 2)[1]
    assert first_section.startswith("The two commands")
    assert "make run" in first_section and "make test" in first_section
