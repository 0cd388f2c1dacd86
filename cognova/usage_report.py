"""``flask usage-report``: token and cost totals for a period as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import click
from flask.cli import with_appcontext

from cognova.services import usage

COLUMNS = {
    "day": ["day"],
    "source": ["source"],
    "name": ["source", "name"],
}
NUMBERS = ["calls", "input_tokens", "output_tokens", "cost_usd"]


def _parse_time(value: str | None, param: str, *, end_of_day: bool = False) -> datetime | None:
    if value is None:
        return None
    from pydantic_core import PydanticCustomError

    from cognova.api.validation import parse_datetime

    try:
        parsed = parse_datetime(value)
    except PydanticCustomError:
        raise click.BadParameter(
            "must be an ISO-8601 date or date-time", param_hint=param
        ) from None
    if end_of_day and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed


def _totals(rows: list[dict]) -> dict:
    return {
        "calls": sum(r["calls"] for r in rows),
        "input_tokens": sum(r["input_tokens"] for r in rows),
        "output_tokens": sum(r["output_tokens"] for r in rows),
        "cost_usd": sum(r["cost_usd"] for r in rows),
    }


def _cell(key: str, value) -> str:
    if key == "cost_usd":
        return f"{value:.6f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_table(rows: list[dict], group_by: str, start: datetime, end: datetime) -> str:
    keys = COLUMNS[group_by] + NUMBERS
    lines = [[k.replace("_", " ") for k in keys]]
    lines += [[_cell(k, r[k]) for k in keys] for r in rows]
    totals = _totals(rows)
    footer = ["TOTAL"] + [""] * (len(COLUMNS[group_by]) - 1)
    footer += [_cell(k, totals[k]) for k in NUMBERS]
    widths = [max(len(line[i]) for line in [*lines, footer]) for i in range(len(keys))]

    def fmt(line: list[str]) -> str:
        cells = [
            cell.rjust(widths[i]) if keys[i] in NUMBERS else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    title = f"Usage {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC, by {group_by}"
    body = [fmt(line) for line in lines[1:]] or ["(no usage)"]
    return "\n".join([title, "", fmt(lines[0]), rule, *body, rule, fmt(footer)]) + "\n"


def render_csv(rows: list[dict], group_by: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[group_by] + NUMBERS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "cost_usd": repr(float(row["cost_usd"]))})
    return out.getvalue()


def render_json(rows: list[dict], group_by: str, start: datetime, end: datetime) -> str:
    from cognova.api.validation import iso_ms

    document = {
        "start": iso_ms(start),
        "end": iso_ms(end),
        "groupBy": group_by,
        "rows": rows,
        "totals": _totals(rows),
    }
    return json.dumps(document, indent=2) + "\n"


@click.command("usage-report")
@click.option(
    "--period",
    type=click.Choice(list(usage.PERIODS)),
    default="7d",
    show_default=True,
    help="Window ending now (ignored when --since is given).",
)
@click.option("--since", help="Start (ISO-8601 date or date-time, UTC unless an offset is given).")
@click.option("--until", help="End (default: now; a bare date includes that whole day).")
@click.option("--group-by", type=click.Choice(usage.GROUPS), default="day", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--tz-offset",
    type=click.IntRange(-840, 840),
    default=0,
    show_default=True,
    help="Minutes behind UTC for day boundaries (JavaScript getTimezoneOffset convention).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write here.")
@with_appcontext
def usage_report_command(period, since, until, group_by, fmt, tz_offset, output):
    """Print token and cost totals for a period, grouped by day, source or name."""
    end = _parse_time(until, "--until", end_of_day=True) or datetime.now(UTC)
    start = _parse_time(since, "--since") or end - usage.PERIODS[period]
    if start > end:
        raise click.BadParameter("must not be after --until", param_hint="--since")
    rows = usage.report(start, end, group_by, tz_offset)
    if fmt == "csv":
        text = render_csv(rows, group_by)
    elif fmt == "json":
        text = render_json(rows, group_by, start, end)
    else:
        text = render_table(rows, group_by, start, end)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"Wrote {len(rows)} row(s) to {output}", err=True)
    else:
        click.echo(text, nl=False)
