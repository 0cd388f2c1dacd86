"""Markdown frontmatter: a YAML mapping between a first line ``---`` and the next ``---`` line.

Parsing never fails: YAML that does not load, or loads to something other than a mapping, means
"no frontmatter" (the whole file is the body) and the reason is returned so the editor can show
it. Values are kept as PyYAML loaded them, so writing the mapping back keeps dates as dates;
``jsonable`` converts them for JSON responses.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)


@dataclass
class Parsed:
    metadata: dict = field(default_factory=dict)
    body: str = ""
    error: str | None = None
    has_frontmatter: bool = False


def parse(text: str) -> Parsed:
    start = 1 if text.startswith("\ufeff") else 0
    if not text.startswith("---", start):
        return Parsed(body=text)
    first = _FENCE.match(text, start)
    if first is None:
        return Parsed(body=text)
    closing = _FENCE.search(text, first.end() + 1)
    if closing is None:
        return Parsed(body=text)
    raw = text[first.end() + 1 : closing.start()]
    rest = text[closing.end() :]
    if rest.startswith("\n"):
        rest = rest[1:]
    try:
        loaded = yaml.load(raw, Loader=Loader)
    except yaml.YAMLError as exc:
        return Parsed(body=text, error=_describe(exc))
    if loaded is None:
        return Parsed(metadata={}, body=rest, has_frontmatter=True)
    if not isinstance(loaded, dict):
        return Parsed(body=text, error="Frontmatter is not a YAML mapping")
    return Parsed(metadata=loaded, body=rest, has_frontmatter=True)


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        # +2: the mark counts from the line after the opening fence, from zero
        return f"Invalid YAML frontmatter: {problem} (line {mark.line + 2})"
    return f"Invalid YAML frontmatter: {problem}"


def compose(metadata: dict, body: str) -> str:
    """Frontmatter + body. An empty mapping still gets its fences, so keys can be added later."""
    dumped = yaml.dump(
        metadata, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    if metadata == {}:
        dumped = ""
    return f"---\n{dumped}---\n{body}"


def jsonable(value):
    """A JSON-safe copy of loaded YAML (dates as ISO strings, bytes as base64, keys as text)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value
