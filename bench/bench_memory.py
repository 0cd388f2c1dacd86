#!/usr/bin/env python
"""Memory at scale: 100,000 memories, then the context and search routes through the app.

    python bench/bench_memory.py [--memories 100000] [--runs 200] [--reuse] [--decay]

Uses a scratch database ``cognova_bench_memory`` on ``BENCH_SERVER_URL`` (default the local
PostgreSQL) and Redis at ``BENCH_REDIS_URL``. Prints p50/p95 of ``GET /api/memory/context``
(target p50 ≤ 10 ms) and of ``GET /api/memory/search?query=…`` for word and fragment queries
(target p50 ≤ 30 ms), measured in-process with the Flask test client (request handling, SQL,
serialisation; no network), each beside the load average and the CPU time this process spent
per request (the database's own CPU is not in it). ``--reuse`` keeps an already seeded database
of the same size (re-running after a code change then takes seconds, not minutes).

After the runs it prints how many of the access-count updates were HOT (no index entries) and
the GIN pending-list sizes: search reads must not degrade the indexes that search uses.

``--decay`` then runs the daily decay over every memory idle for 30 days while a thread keeps
searching for a common word (each search updates the access counts of what it returns, so it
waits for any decay transaction holding those rows): the decay's time and batches, and the
searches' p50 and worst latency meanwhile.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

BENCH_DB = "cognova_bench_memory"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "bench-api-token-" + "m" * 24

WORDS = [
    "postgres",
    "redis",
    "deploy",
    "docker",
    "python",
    "flask",
    "pytest",
    "ruff",
    "pnpm",
    "npm",
    "vite",
    "react",
    "ubuntu",
    "nginx",
    "gunicorn",
    "celery",
    "kafka",
    "terraform",
    "ansible",
    "kubernetes",
    "helm",
    "grafana",
    "prometheus",
    "sentry",
    "stripe",
    "billing",
    "invoice",
    "login",
    "session",
    "cookie",
    "token",
    "cache",
    "queue",
    "worker",
    "cron",
    "backup",
    "migration",
    "index",
    "schema",
    "tenant",
    "customer",
    "dashboard",
    "report",
    "export",
    "import",
    "vault",
    "note",
    "task",
    "reminder",
    "agent",
    "budget",
    "prompt",
    "model",
    "claude",
    "memory",
    "search",
    "context",
    "hook",
    "tool",
    "editor",
    "vim",
    "tmux",
    "zsh",
    "git",
    "branch",
]
TYPES = ("decision", "fact", "solution", "pattern", "preference", "summary")


def database_url() -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + BENCH_DB, parts.query, parts.fragment))


def recreate_database() -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (BENCH_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "te",
    "su",
    "vo",
    "ni",
    "pe",
    "zu",
    "an",
    "el",
    "or",
    "ix",
    "um",
    "da",
    "fo",
    "gi",
    "ho",
    "ju",
]


def vocabulary(size: int = 20_000) -> list[str]:
    """Project-specific words (names, libraries, hosts): what makes real memories selective."""
    rng = random.Random(11)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


RARE = vocabulary()


def sentence(rng: random.Random) -> str:
    common = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
    rare = [rng.choice(RARE) for _ in range(rng.randint(3, 7))]
    words = common + rare
    rng.shuffle(words)
    return " ".join(words).capitalize()


def seed(count: int) -> None:
    rng = random.Random(7)
    projects = [None] + [f"/home/ada/project-{n}" for n in range(50)]
    with psycopg.connect(database_url()) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY memory_chunks (session_id, project_path, chunk_type, content, relevance_score, "
            "access_count, created_at) FROM STDIN"
        ) as copy:
            for n in range(count):
                copy.write_row(
                    (
                        f"session-{n % 5000}",
                        rng.choice(projects),
                        rng.choice(TYPES),
                        f"{sentence(rng)} #{n}",
                        round(rng.random(), 3),
                        rng.randint(0, 40),
                        f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T12:00:00Z",
                    )
                )
        conn.commit()
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE memory_chunks")


def seeded_count() -> int | None:
    """Rows in an existing bench database, or None when there is none (or no table yet)."""
    try:
        with psycopg.connect(database_url()) as conn:
            return conn.execute("SELECT count(*) FROM memory_chunks").fetchone()[0]
    except psycopg.Error:
        return None


class Samples:
    """Wall-clock milliseconds per request and this process's CPU time over them."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu_started = time.process_time()
        self.cpu = 0.0

    def measure(self, call) -> None:
        started = time.perf_counter()
        call()
        self.wall.append((time.perf_counter() - started) * 1000)
        self.cpu = time.process_time() - self.cpu_started


def timed(client, path: str, runs: int) -> Samples:
    samples = Samples()

    def call():
        response = client.get(path, headers={"X-API-Token": TOKEN})
        assert response.status_code == 200, response.get_json()

    for _ in range(runs):
        samples.measure(call)
    return samples


def report(label: str, samples: Samples, target: float | None = None) -> None:
    wall = sorted(samples.wall)
    p50 = statistics.median(wall)
    p95 = wall[int(len(wall) * 0.95) - 1]
    cpu = samples.cpu * 1000 / len(wall)
    load = os.getloadavg()[0]
    verdict = "" if target is None else ("  ok" if p50 <= target else f"  OVER {target} ms")
    print(
        f"{label:<44} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   cpu {cpu:5.2f} ms/req"
        f"   load {load:4.2f}{verdict}"
    )


def index_health() -> None:
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        updates, hot = conn.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = 'memory_chunks'"
        ).fetchone()
        print(f"access-count updates: {updates:,}, HOT (no index entries): {hot:,}")
        names = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index JOIN pg_class c "
            "ON c.oid = indexrelid JOIN pg_am am ON am.oid = c.relam "
            "WHERE indrelid = 'memory_chunks'::regclass AND am.amname = 'gin' ORDER BY 1"
        ).fetchall()
        for (name,) in names:
            pending = conn.execute(
                "SELECT pending_tuples FROM pgstatginindex(%s::regclass)", (name,)
            ).fetchone()[0]
            print(f"  {name}: {pending:,} entries in the GIN pending list")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the seeded database if it has --memories rows"
    )
    parser.add_argument("--decay", action="store_true", help="time the daily decay under searches")
    args = parser.parse_args()

    reuse = args.reuse and seeded_count() == args.memories
    if not reuse:
        recreate_database()
    from cognova import boot, create_app
    from cognova.config import Config

    instance = Path("/tmp/cognova-bench-memory")
    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(
        Config(
            env={
                "DATABASE_URL": database_url(),
                "REDIS_URL": REDIS_URL,
                "COGNOVA_REDIS_NAMESPACE": "cognova-bench-memory",
                "COGNOVA_INSTANCE_PATH": str(instance),
                "VAULT_PATH": str(instance / "vault"),
                "BETTER_AUTH_SECRET": "bench-auth-secret",
                "COGNOVA_API_TOKEN": TOKEN,
                "ADMIN_PASSWORD": "bench-password-123",
                "COGNOVA_LOG_LEVEL": "WARNING",
            }
        )
    )
    with app.app_context():
        boot.migrate_database()
        from cognova.services import admin

        admin.seed_admin("bench@example.com", "Bench", "bench-password-123")
        from cognova.extensions import db

        db.session.remove()
    if reuse:
        with psycopg.connect(database_url(), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE memory_chunks")
            conn.execute("SELECT pg_stat_reset()")
        print(f"reusing {args.memories:,} seeded memories (vacuumed)")
    else:
        started = time.perf_counter()
        seed(args.memories)
        print(f"seeded {args.memories:,} memories in {time.perf_counter() - started:.1f} s")
    with app.app_context():
        from cognova.extensions import db

        plan = db.session.execute(
            sa.text(
                "EXPLAIN SELECT id FROM memory_chunks WHERE to_tsvector('english'::regconfig, "
                "content || ' ' || coalesce(source_excerpt, '')) @@ "
                "websearch_to_tsquery('english'::regconfig, 'terraform')"
            )
        ).scalars()
        uses_index = any("ix_fts_memory_chunks" in line for line in plan)
        db.session.remove()
    print(f"full-text index used: {uses_index}")

    client = app.test_client()
    timed(client, "/api/memory/context", 20)  # warm the pool and caches
    report("GET /api/memory/context", timed(client, "/api/memory/context", args.runs), 10)
    report(
        "GET /api/memory/context?project=…&limit=20",
        timed(client, "/api/memory/context?project=/home/ada/project-7&limit=20", args.runs),
        10,
    )
    rng = random.Random(3)
    words = [rng.choice(RARE) for _ in range(args.runs)]
    for label, make in (
        ("search: a project word (~30 matches)", lambda w: w),
        ("search: two words", lambda w: f"{w} {rng.choice(WORDS)}"),
        ("search: a 5-letter fragment", lambda w: (w * 2)[1:6]),
        ("search: a common word (~3% of all rows)", lambda w: rng.choice(WORDS)),
    ):
        samples = Samples()
        for word in words:
            query = make(word)

            def call(query=query):
                response = client.get(
                    "/api/memory/search",
                    query_string={"query": query},
                    headers={"X-API-Token": TOKEN},
                )
                assert response.status_code == 200

            samples.measure(call)
        report(label, samples, 30)
    index_health()
    if args.decay:
        time_decay(app)


def time_decay(app) -> None:
    """The daily decay over the seeded rows while another thread searches."""
    from datetime import UTC, datetime

    from cognova.extensions import db, redis_client, redis_key
    from cognova.services import memory

    stop = threading.Event()
    waits: list[float] = []

    def searcher() -> None:
        client = app.test_client()
        rng = random.Random(5)
        while not stop.is_set():
            started = time.perf_counter()
            response = client.get(
                "/api/memory/search",
                query_string={"query": rng.choice(WORDS)},
                headers={"X-API-Token": TOKEN},
            )
            assert response.status_code == 200
            waits.append((time.perf_counter() - started) * 1000)

    with app.app_context():
        redis_client().delete(redis_key("memory", "decay", "last-run"))
        redis_client().delete(redis_key("memory", "decay", "progress"))
        now = datetime(2026, 12, 31, 12, tzinfo=UTC)  # after every seeded access date
        thread = threading.Thread(target=searcher)
        thread.start()
        time.sleep(0.5)
        started = time.perf_counter()
        result = memory.decay(now)
        elapsed = time.perf_counter() - started
        stop.set()
        thread.join()
        db.session.remove()
    waits.sort()
    batches = -(-result["decayed"] // memory.DECAY_BATCH)
    print(
        f"decay: {result} in {elapsed:.1f} s ({batches} decay batches of up to "
        f"{memory.DECAY_BATCH:,}); {len(waits)} searches meanwhile: p50 "
        f"{statistics.median(waits):.1f} ms, worst {waits[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
