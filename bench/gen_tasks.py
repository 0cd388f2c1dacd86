"""Build a benchmark database: 1,000,000 tasks in 1,000 projects, loaded with COPY.

    python bench/gen_tasks.py [--tasks 1000000] [--projects 1000] [--server URL] [--name DB]

Creates (or recreates) the database ``cognova_bench`` on the PostgreSQL server at
127.0.0.1:5432, migrates it with the app's own migrations, then loads the rows. The task
indexes are dropped for the load and rebuilt afterwards (much faster than maintaining three
GIN indexes row by row), then the table is vacuumed and analysed.

Data shape (so the benchmark filters are realistic): status 40% todo / 20% in_progress /
30% done / 10% blocked; 0–3 tags from 40; titles of a verb and two nouns from 200, so each
noun is in about 1% of titles; a third of the tasks have a one-sentence description.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
NAME = "cognova_bench"
USER_ID = "benchuser" + "0" * 23

VERBS = [
    "review",
    "fix",
    "write",
    "plan",
    "call",
    "email",
    "draft",
    "update",
    "check",
    "test",
    "ship",
    "design",
    "refactor",
    "clean",
]
NOUNS = [
    f"{a}{b}"
    for a in ("al", "be", "co", "de", "ex", "fo", "gi", "ha", "io", "ju")
    for b in (
        "pha",
        "rex",
        "ton",
        "vik",
        "mira",
        "zulu",
        "quin",
        "dorn",
        "lark",
        "wisp",
        "fenn",
        "gort",
        "hask",
        "yarn",
        "kelp",
        "nox",
        "pyre",
        "sable",
        "tarn",
        "umbr",
    )
]
TAGS = [f"tag{i:02d}" for i in range(40)]
STATUSES = ["todo"] * 4 + ["in_progress"] * 2 + ["done"] * 3 + ["blocked"]


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recreate(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(server, name)
    from cognova import boot, create_app
    from cognova.config import Config

    app = create_app(Config(env={"DATABASE_URL": url, "COGNOVA_LOG_LEVEL": "WARNING"}))
    with app.app_context():
        boot.migrate_database()
    return url


def copy_text(value) -> str:
    if value is None:
        return r"\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def task_lines(count: int, projects: list[str], rng: random.Random):
    now = datetime.now(UTC)
    for n in range(count):
        status = rng.choice(STATUSES)
        created = now - timedelta(seconds=rng.randrange(0, 365 * 86400))
        title = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} {rng.choice(NOUNS)} #{n}"
        description = None
        if rng.random() < 0.33:
            description = f"Notes about {rng.choice(NOUNS)} and {rng.choice(NOUNS)} for later."
        tags = "{" + ",".join(rng.sample(TAGS, rng.randrange(0, 4))) + "}"
        due = None
        if rng.random() < 0.6:
            due = created + timedelta(days=rng.randrange(0, 60))
        project = rng.choice(projects) if rng.random() < 0.9 else None
        completed = created + timedelta(days=1) if status == "done" else None
        yield (
            "\t".join(
                copy_text(v)
                for v in (
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    title,
                    description,
                    status,
                    rng.choice((1, 2, 2, 3)),
                    project,
                    due.isoformat() if due else None,
                    tags,
                    created.isoformat(),
                    USER_ID,
                    completed.isoformat() if completed else None,
                )
            )
            + "\n"
        )


def load(url: str, tasks: int, projects: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        conn.execute(
            'INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at) '
            "VALUES (%s, 'Bench', 'bench@example.com', true, now(), now()) "
            "ON CONFLICT DO NOTHING",
            (USER_ID,),
        )
        project_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(projects)]
        with conn.cursor().copy(
            "COPY projects (id, name, color, created_at, created_by) FROM STDIN"
        ) as copy:
            for i, pid in enumerate(project_ids):
                copy.write_row(
                    (
                        pid,
                        f"Project {i}",
                        f"#{rng.randrange(0xFFFFFF):06x}",
                        datetime.now(UTC),
                        USER_ID,
                    )
                )
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks' "
            "AND indexname <> 'tasks_pkey'"
        ).fetchall()
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()

        started = time.monotonic()
        columns = (
            "id, title, description, status, priority, project_id, due_date, tags, "
            "created_at, created_by, completed_at"
        )
        with conn.cursor().copy(f"COPY tasks ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for n, line in enumerate(task_lines(tasks, project_ids, rng), 1):
                buffer.write(line)
                if n % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
                    print(
                        f"  {n:>9,} tasks copied ({time.monotonic() - started:.0f} s)", flush=True
                    )
            copy.write(buffer.getvalue())
        conn.commit()
        print(f"copied {tasks:,} tasks in {time.monotonic() - started:.1f} s", flush=True)

        started = time.monotonic()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            conn.execute(definition)
            conn.commit()
            print(f"  index {name} ({time.monotonic() - started:.0f} s)", flush=True)
        conn.commit()
        print(f"indexes rebuilt in {time.monotonic() - started:.1f} s", flush=True)
        # vacuumed as well as analysed: otherwise autovacuum takes the freshly loaded table
        # (visibility map, hint bits) during the first benchmark run, beside its servers
        started = time.monotonic()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) projects")
        conn.execute("VACUUM (ANALYZE) tasks")
        print(f"vacuumed and analysed in {time.monotonic() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=1_000)
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--name", default=NAME)
    args = parser.parse_args()
    started = time.monotonic()
    url = recreate(args.server, args.name)
    print(f"database {url} created and migrated", flush=True)
    load(url, args.tasks, args.projects)
    print(f"done in {time.monotonic() - started:.0f} s: {url}")


if __name__ == "__main__":
    main()
