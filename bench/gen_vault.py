#!/usr/bin/env python
"""Generate a vault for the benchmarks: nested folders of markdown notes with frontmatter.

    python bench/gen_vault.py [--files 10000] [--dir /tmp/cognova-bench-vault/vault]

Deterministic (fixed seed): about 4 KB per note, so 10,000 notes make about 40 MB. Also the
shared set-up of bench_vault.py and bench_search.py: the dedicated database
``cognova_bench_vault`` and the environment the app is built with.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "cognova_bench_vault"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKDIR = Path(os.environ.get("BENCH_VAULT_DIR", "/tmp/cognova-bench-vault"))

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ten",
    "vo",
    "su",
    "pe",
    "lin",
    "dar",
    "mor",
    "ste",
    "qui",
    "na",
    "bel",
    "tor",
    "fa",
    "gri",
    "ul",
    "zen",
]
COMMON = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
    "have",
    "not",
    "project",
    "meeting",
    "notes",
    "idea",
    "plan",
    "review",
    "design",
    "draft",
    "research",
    "summary",
    "question",
    "answer",
    "garden",
    "recipe",
    "travel",
    "budget",
    "reading",
    "list",
    "code",
    "release",
    "deploy",
    "server",
    "database",
]


def database_url() -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + BENCH_DB, parts.query, parts.fragment))


def env(vault: Path | None = None) -> dict[str, str]:
    instance = WORKDIR / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "COGNOVA_REDIS_NAMESPACE": "cognova-bench-vault",
        "COGNOVA_INSTANCE_PATH": str(instance),
        "VAULT_PATH": str(vault or WORKDIR / "vault"),
        "BETTER_AUTH_SECRET": "bench-auth-secret",
        "COGNOVA_API_TOKEN": "bench-api-token-" + "v" * 24,
        "ADMIN_PASSWORD": "bench-password-123",
        "COGNOVA_LOG_LEVEL": "WARNING",
    }


def reset_database() -> None:
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (BENCH_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def make_app(vault: Path | None = None):
    from cognova import boot, create_app
    from cognova.config import Config

    app = create_app(Config(env=env(vault)))
    with app.app_context():
        boot.migrate_database()
    return app


def vocabulary(rng: random.Random, size: int = 20000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return COMMON + sorted(words)


def zipf_weights(n: int) -> list[float]:
    """Cumulative Zipf weights (pass as ``cum_weights``: computing them per call is slow)."""
    total, out = 0.0, []
    for rank in range(n):
        total += 1.0 / (rank + 1)
        out.append(total)
    return out


def note_text(rng: random.Random, words: list[str], weights, n: int, size: int) -> str:
    title = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(2, 5))).capitalize()
    tags = sorted(set(rng.choices(words[:300], k=rng.randint(0, 4))))
    lines = [
        "---",
        f"title: {title} {n}",
        f"tags: [{', '.join(tags)}]",
        f"date: 2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "---",
        f"# {title} {n}",
        "",
    ]
    text = "\n".join(lines)
    while len(text) < size:
        sentence = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(6, 18)))
        text += sentence.capitalize() + ". "
        if rng.random() < 0.2:
            text += "\n\n" + ("## " if rng.random() < 0.3 else "- ")
    return text + "\n"


def generate(target: Path, files: int, size: int = 4000, seed: int = 7) -> int:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = zipf_weights(len(words))
    if target.exists():
        shutil.rmtree(target)
    folders = [
        f"area-{a}/topic-{b}/{'deep-' + str(c) if c else ''}".rstrip("/")
        for a in range(10)
        for b in range(10)
        for c in range(3)
    ]
    total = 0
    for n in range(files):
        folder = target / folders[n % len(folders)]
        folder.mkdir(parents=True, exist_ok=True)
        data = note_text(rng, words, weights, n, size).encode()
        (folder / f"note {n:05d}.md").write_bytes(data)
        total += len(data)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=WORKDIR / "vault")
    args = parser.parse_args()
    started = time.perf_counter()
    total = generate(args.dir, args.files)
    elapsed = time.perf_counter() - started
    print(f"{args.files} notes, {total / 1e6:.1f} MB in {args.dir} ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
