#!/usr/bin/env python
"""Vault sync figures on a generated vault (database ``cognova_bench_vault``, recreated).

    python bench/bench_vault.py [--files 10000]

1. floor: read + SHA-256 of every file in a plain Python loop (page cache warm);
2. cold import: ``full_sync`` into an empty table with an empty stat cache (target ≤ 2.5×
   the floor);
3. no-change re-sync (target ≤ 1 s);
4. re-sync after editing 100 files (target ≤ 1 s), and after only touching the mtime of 100.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

from gen_vault import WORKDIR, generate, make_app, reset_database

from cognova.extensions import db, redis_client, redis_key


def floor(paths: list[str]) -> float:
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as fh:
            hashlib.sha256(fh.read()).hexdigest()
    return time.perf_counter() - started


def timed_sync():
    from cognova.services import sync

    started = time.perf_counter()
    report = sync.full_sync()
    elapsed = time.perf_counter() - started
    db.session.remove()
    return elapsed, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    vault = WORKDIR / "vault"
    total = generate(vault, args.files)
    print(f"vault: {args.files} files, {total / 1e6:.1f} MB, nested, with frontmatter")
    reset_database()
    app = make_app(vault)
    with app.app_context():
        client = redis_client()
        keys = list(client.scan_iter(match=redis_key("*")))
        if keys:
            client.delete(*keys)
        paths = [os.path.join(d, f) for d, _, files in os.walk(vault) for f in files]
        floor(paths)  # warm the page cache so both sides read from memory
        floor_s = min(floor(paths) for _ in range(3))
        print(f"floor  read+sha256 loop : {floor_s:7.3f} s  ({len(paths) / floor_s:8.0f} files/s)")

        cold_s, report = timed_sync()
        ratio = cold_s / floor_s
        print(
            f"cold   import (sync)    : {cold_s:7.3f} s  ({len(paths) / cold_s:8.0f} files/s)"
            f"  = {ratio:.2f}x floor (target <= 2.5x)  created={report.created}"
        )
        again_s, report = timed_sync()
        print(
            f"no-change re-sync       : {again_s:7.3f} s  unchanged={report.unchanged}"
            f" (target <= 1 s)"
        )
        for path in paths[:100]:
            with open(path, "a") as fh:
                fh.write("\nEdited for the benchmark.\n")
        edit_s, report = timed_sync()
        print(
            f"re-sync, 100 edited     : {edit_s:7.3f} s  updated={report.updated} (target <= 1 s)"
        )
        for path in paths[100:200]:
            os.utime(path)
        touch_s, report = timed_sync()
        print(
            f"re-sync, 100 touched    : {touch_s:7.3f} s  unchanged={report.unchanged}"
            f" updated={report.updated} (mtime only)"
        )
    breakdown(vault, len(paths), floor_s)


def breakdown(vault, count: int, floor_s: float) -> None:
    """Where a cold import's time goes: the same import without the full-text indexes, then
    building those indexes in one go."""
    import sqlalchemy as sa

    reset_database()
    app = make_app(vault)
    with app.app_context():
        client = redis_client()
        keys = list(client.scan_iter(match=redis_key("*")))
        if keys:
            client.delete(*keys)
        definitions = list(
            db.session.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents' "
                    "AND (indexname LIKE 'ix_fts_%' OR indexname LIKE 'ix_trgm_%')"
                )
            )
        )
        for name, _ in definitions:
            db.session.execute(sa.text(f"DROP INDEX {name}"))
        db.session.commit()
        bare_s, _ = timed_sync()
        print(
            f"cold import, no FTS idx : {bare_s:7.3f} s  ({count / bare_s:8.0f} files/s)"
            f"  = {bare_s / floor_s:.2f}x floor"
        )
        started = time.perf_counter()
        for _, definition in definitions:
            db.session.execute(sa.text(definition))
        db.session.commit()
        print(f"build FTS+trgm indexes  : {time.perf_counter() - started:7.3f} s")


if __name__ == "__main__":
    main()
