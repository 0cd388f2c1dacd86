"""Read SCHEMA.txt and a live database into the same shape, and list how they differ."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SCHEMA_TXT = Path(__file__).parent / "fixtures" / "SCHEMA.txt"

TYPES = {
    "uuid": "uuid",
    "text": "text",
    "timestamptz": "timestamp with time zone",
    "boolean": "boolean",
    "integer": "integer",
    "real": "real",
}


@dataclass(frozen=True)
class Column:
    type: str
    nullable: bool
    default: str | None
    fk: tuple[str, str] | None  # (referenced table, delete rule)
    unique: bool


def _normalise_default(raw: str | None) -> str | None:
    if raw is None or raw in ("-", ""):
        return None
    value = raw.strip()
    value = re.sub(r"::[a-z ]+(\[\])?$", "", value)  # drop casts: 'todo'::text, '{}'::text[]
    if value == "[]":
        value = "'{}'"
    return value


def parse_schema_txt(path: Path = SCHEMA_TXT) -> dict[str, dict[str, Column]]:
    tables: dict[str, dict[str, Column]] = {}
    current = None
    for line in path.read_text().splitlines():
        if re.fullmatch(r"[a-z_]+", line.strip()):
            current = line.strip()
            continue
        if current is None or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("Column", "Table"):
            continue
        if current == "user" and cells[0] == "text" and cells[1] == "No":
            # SCHEMA.txt's mangled row is the email column (DESIGN.md).
            cells = ["email", "text", "No", "-", "Unique email address"]
        if len(cells) < 5 or cells[1] not in TYPES:
            continue
        name, type_, nullable, default, description = cells[:5]
        fk = None
        match = re.search(
            r"FK to (\w+)\.id \((cascade|set null) (?:delete|on delete)\)", description
        )
        if match:
            fk = (match.group(1), "CASCADE" if match.group(2) == "cascade" else "SET NULL")
        type_name = TYPES[type_]
        if name == "tags":
            type_name = "text[]"
        tables.setdefault(current, {})[name] = Column(
            type=type_name,
            nullable=nullable == "Yes",
            default=_normalise_default(default),
            fk=fk,
            unique=description.lower().startswith("unique")
            or (name == "token" and current == "session"),
        )
    return tables


def describe_database(conn) -> dict[str, dict[str, Column]]:
    rows = conn.execute(
        sa.text(
            """
            SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable,
                   c.column_default
            FROM information_schema.columns c
            WHERE c.table_schema = 'public' AND c.table_name <> 'alembic_version'
            """
        )
    ).all()
    fks = {
        (r.table_name, r.column_name): (r.ref_table, r.delete_rule)
        for r in conn.execute(
            sa.text(
                """
                SELECT kcu.table_name, kcu.column_name, ccu.table_name AS ref_table,
                       rc.delete_rule
                FROM information_schema.referential_constraints rc
                JOIN information_schema.key_column_usage kcu
                  ON kcu.constraint_name = rc.constraint_name
                JOIN information_schema.constraint_column_usage ccu
                  ON ccu.constraint_name = rc.unique_constraint_name
                WHERE kcu.table_schema = 'public'
                """
            )
        )
    }
    uniques = {
        (r.table_name, r.column_name)
        for r in conn.execute(
            sa.text(
                """
                SELECT kcu.table_name, kcu.column_name
                FROM information_schema.table_constraints tc
                JOIN information_schema.key_column_usage kcu
                  ON kcu.constraint_name = tc.constraint_name
                WHERE tc.constraint_type = 'UNIQUE' AND tc.table_schema = 'public'
                """
            )
        )
    }
    tables: dict[str, dict[str, Column]] = {}
    for r in rows:
        type_name = "text[]" if r.data_type == "ARRAY" and r.udt_name == "_text" else r.data_type
        tables.setdefault(r.table_name, {})[r.column_name] = Column(
            type=type_name,
            nullable=r.is_nullable == "YES",
            default=_normalise_default(r.column_default),
            fk=fks.get((r.table_name, r.column_name)),
            unique=(r.table_name, r.column_name) in uniques,
        )
    return tables


def differences(expected: dict, actual: dict) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            problems.append(f"missing table {table}")
            continue
        if table not in expected:
            problems.append(f"unexpected table {table}")
            continue
        for column in sorted(set(expected[table]) | set(actual[table])):
            want, got = expected[table].get(column), actual[table].get(column)
            if want != got:
                problems.append(f"{table}.{column}: expected {want}, found {got}")
    return problems
