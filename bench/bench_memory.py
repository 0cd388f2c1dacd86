#!/usr/bin/env python
"""Memory at scale: 100,000 memories, then the context and search routes through the app.

    python bench/bench_memory.py [--memories 100000] [--runs 200]

Uses a scratch database ``cognova_bench_memory`` on ``BENCH_SERVER_URL`` (default the local
PostgreSQL) and Redis at ``BENCH_REDIS_URL``. Prints p50/p95 of ``GET /api/memory/context``
(target p50 ≤ 10 ms) and of ``GET /api/memory/search?query=…`` for word and fragment queries
(target p50 ≤ 30 ms), measured in-process with the Flask test client (request handling, SQL,
serialisation; no network).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
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


def timed(client, path: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers={"X-API-Token": TOKEN})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    return samples


def report(label: str, samples: list[float], target: float | None = None) -> None:
    samples = sorted(samples)
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    verdict = "" if target is None else ("  ok" if p50 <= target else f"  OVER {target} ms")
    print(f"{label:<44} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

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
        samples = []
        for word in words:
            started = time.perf_counter()
            response = client.get(
                "/api/memory/search",
                query_string={"query": make(word)},
                headers={"X-API-Token": TOKEN},
            )
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        report(label, samples, 30)


if __name__ == "__main__":
    main()
