#!/usr/bin/env python
"""Fill the database ``cognova_bench_usage`` with token_usage rows spread over 90 days.

    python bench/gen_usage.py [--rows 1000000] [--days 90]

The database is dropped and recreated, migrated like a real install, then loaded with COPY.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from usage_common import BENCH_DB, SERVER_URL, database_url, make_app

SOURCES = [("chat", 0.6), ("agent", 0.3), ("memory_extraction", 0.1)]
AGENTS = [f"Agent {name}" for name in ("digest", "triage", "inbox", "research", "backup")]


def rows(count: int, days: int, seed: int = 7):
    rng = random.Random(seed)
    now = datetime.now(UTC)
    span = days * 86400
    chats = [f"Chat about topic {i}" for i in range(400)]
    for _ in range(count):
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        if source == "chat":
            name = rng.choice(chats) if rng.random() > 0.02 else None
        elif source == "agent":
            name = rng.choice(AGENTS)
        else:
            name = None if rng.random() < 0.5 else "Memory extraction"
        inp = rng.randint(200, 40000)
        out = rng.randint(50, 4000)
        cost = inp * 3e-6 + out * 15e-6
        created = now - timedelta(seconds=rng.random() * span)
        yield (
            str(uuid.uuid4()),
            source,
            str(uuid.uuid4()) if name else None,
            name,
            inp,
            out,
            cost,
            rng.randint(300, 60000),
            rng.randint(1, 12) if source == "agent" else None,
            created,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()

    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (BENCH_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')

    from cognova import boot

    app = make_app()
    with app.app_context():
        boot.migrate_database()

    started = time.perf_counter()
    columns = (
        "id, source, source_id, source_name, input_tokens, output_tokens, cost_usd, "
        "duration_ms, num_turns, created_at"
    )
    with psycopg.connect(database_url()) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY token_usage ({columns}) FROM STDIN") as copy:
            for row in rows(args.rows, args.days):
                copy.write_row(row)
        conn.commit()
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE token_usage")
    elapsed = time.perf_counter() - started
    print(f"loaded {args.rows:,} rows over {args.days} days in {elapsed:.1f}s")


if __name__ == "__main__":
    main()
