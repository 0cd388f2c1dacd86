#!/usr/bin/env python
"""Vault sync figures on a generated vault (database ``cognova_bench_vault``, recreated).

    python bench/bench_vault.py [--files 10000] [--no-floor]

1. floor: read + SHA-256 of every file in a plain Python loop (page cache warm);
2. cold import: ``full_sync`` into an empty table with an empty stat cache (target ≤ 2.5×
   the floor), with the CPU time it took in this process and in the PostgreSQL backends;
3. no-change re-sync (target ≤ 1 s);
4. re-sync after editing 100 files (target ≤ 1 s), and after only touching the mtime of 100;
5. the database's own floor for the same rows (unless ``--no-floor``): COPY of the rows the
   import wrote, from memory, into the empty table with every index, on two connections at
   once; the same without the full-text indexes; ``to_tsvector`` of the same text alone; and
   the import without the full-text indexes followed by building them.

Every line carries the 1-minute load average: the machine may be shared, and CPU times are
less sensitive to that than wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import threading
import time

import psycopg
from gen_vault import WORKDIR, database_url, generate, make_app, reset_database

from cognova.extensions import db, redis_client, redis_key
from cognova.services.sync import COPY_COLUMNS

TICK = os.sysconf("SC_CLK_TCK")
FULLTEXT = "indexname LIKE 'ix_fts_%' OR indexname LIKE 'ix_trgm_%'"


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def floor(paths: list[str]) -> float:
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as fh:
            hashlib.sha256(fh.read()).hexdigest()
    return time.perf_counter() - started


class BackendCpu:
    """CPU seconds used by this database's server processes (read from /proc, so only when
    PostgreSQL runs on this machine; None otherwise)."""

    def __init__(self) -> None:
        self.start = self.sample()

    @staticmethod
    def sample() -> dict[int, float] | None:
        with psycopg.connect(database_url(), autocommit=True) as conn:
            pids = [
                r[0]
                for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        out = {}
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK
        return out

    def used(self) -> float | None:
        end = self.sample()
        if end is None or self.start is None:
            return None
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in end.items())


def cpu_text(python_s: float | None, backend_s: float | None) -> str:
    parts = []
    if python_s is not None:
        parts.append(f"python cpu {python_s:.2f} s")
    parts.append("postgres cpu " + ("n/a" if backend_s is None else f"{backend_s:.2f} s"))
    return ", ".join(parts)


def timed_sync(count_cpu: bool = False):
    from cognova.services import sync

    if count_cpu:
        # open the pool's connections first, so the backends that do the work are counted
        held = [db.engine.connect() for _ in range(sync.INSERT_WORKERS + 1)]
        for conn in held:
            conn.close()
        backends = BackendCpu()
    started, cpu = time.perf_counter(), time.process_time()
    report = sync.full_sync()
    elapsed = time.perf_counter() - started
    python_s = time.process_time() - cpu
    db.session.remove()
    if count_cpu:
        return elapsed, report, cpu_text(python_s, backends.used())
    return elapsed, report, ""


def empty_stat_cache() -> None:
    client = redis_client()
    keys = list(client.scan_iter(match=redis_key("*")))
    if keys:
        client.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--no-floor", action="store_true", help="skip the database floor")
    args = parser.parse_args()
    vault = WORKDIR / "vault"
    total = generate(vault, args.files)
    print(f"vault: {args.files} files, {total / 1e6:.1f} MB, nested, with frontmatter")
    reset_database()
    app = make_app(vault)
    with app.app_context():
        empty_stat_cache()
        paths = [os.path.join(d, f) for d, _, files in os.walk(vault) for f in files]
        floor(paths)  # warm the page cache so both sides read from memory
        floor_s = min(floor(paths) for _ in range(3))
        print(
            f"floor  read+sha256 loop : {floor_s:7.3f} s  ({len(paths) / floor_s:8.0f} files/s)"
            f"  {load()}"
        )

        cold_s, report, cpu = timed_sync(count_cpu=True)
        ratio = cold_s / floor_s
        print(
            f"cold   import (sync)    : {cold_s:7.3f} s  ({len(paths) / cold_s:8.0f} files/s)"
            f"  = {ratio:.2f}x floor (target <= 2.5x)  created={report.created}  {load()}"
        )
        print(f"       cpu of the import: {cpu}")
        rows = dump_rows() if not args.no_floor else None
        again_s, report, _ = timed_sync()
        print(
            f"no-change re-sync       : {again_s:7.3f} s  unchanged={report.unchanged}"
            f" (target <= 1 s)  {load()}"
        )
        for path in paths[:100]:
            with open(path, "a") as fh:
                fh.write("\nEdited for the benchmark.\n")
        edit_s, report, _ = timed_sync()
        print(
            f"re-sync, 100 edited     : {edit_s:7.3f} s  updated={report.updated}"
            f" (target <= 1 s)  {load()}"
        )
        for path in paths[100:200]:
            os.utime(path)
        touch_s, report, _ = timed_sync()
        print(
            f"re-sync, 100 touched    : {touch_s:7.3f} s  unchanged={report.unchanged}"
            f" updated={report.updated} (mtime only)  {load()}"
        )
    if rows is not None:
        database_floor(rows, cold_s)
        breakdown(len(paths), floor_s)


# ----------------------------------------------------------------- the database's floor


def dump_rows() -> list[bytes]:
    """The rows the import wrote, as COPY text, in two halves."""
    columns = ", ".join(COPY_COLUMNS)
    halves = [io.BytesIO(), io.BytesIO()]
    with (
        psycopg.connect(database_url()) as conn,
        conn.cursor().copy(f"COPY (SELECT {columns} FROM documents) TO STDOUT") as copy,
    ):
        for n, line in enumerate(_lines(copy)):
            halves[n % 2].write(line)
    return [h.getvalue() for h in halves]


def _lines(copy):
    pending = b""
    for block in copy:
        pending += bytes(block)
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


def fresh_table(drop_fulltext: bool) -> list[tuple[str, str]]:
    """Recreate the database; optionally drop the full-text indexes (returned)."""
    reset_database()
    make_app(WORKDIR / "vault")
    with psycopg.connect(database_url(), autocommit=True) as conn:
        definitions = list(
            conn.execute(
                f"SELECT indexname, indexdef FROM pg_indexes "
                f"WHERE tablename = 'documents' AND ({FULLTEXT})"
            )
        )
        if drop_fulltext:
            for name, _ in definitions:
                conn.execute(f"DROP INDEX {name}")
        conn.execute("CHECKPOINT")
    return definitions


def parallel(work: list) -> tuple[float, float | None]:
    """Run each ``work(conn)`` on its own connection at once; wall time and backend CPU."""
    conns = [psycopg.connect(database_url()) for _ in work]
    backends = BackendCpu()
    errors = []

    def run(fn, conn):
        try:
            fn(conn)
            conn.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(work, conns, strict=True)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    used = backends.used()
    for conn in conns:
        conn.close()
    if errors:
        raise errors[0]
    return elapsed, used


def copy_in(data: bytes):
    def fn(conn):
        with conn.cursor().copy(f"COPY documents ({', '.join(COPY_COLUMNS)}) FROM STDIN") as cp:
            view = memoryview(data)
            for start in range(0, len(view), 1 << 20):
                cp.write(view[start : start + (1 << 20)])

    return fn


def tsvector_of(half: int):
    from cognova.services.search import DOC_TSV

    def fn(conn):
        conn.execute(
            f"SELECT sum(length({DOC_TSV})) FROM documents WHERE abs(hashtext(path)) % 2 = {half}"
        ).fetchone()

    return fn


def database_floor(rows: list[bytes], cold_s: float) -> None:
    fresh_table(drop_fulltext=False)
    all_s, all_cpu = parallel([copy_in(h) for h in rows])
    print(
        f"db floor: COPY, every index, 2 conns : {all_s:7.3f} s  "
        f"{cpu_text(None, all_cpu)}  (import = {cold_s / all_s:.2f}x this)  {load()}"
    )
    text_s, text_cpu = parallel([tsvector_of(0), tsvector_of(1)])
    print(
        f"db floor: to_tsvector alone, 2 conns : {text_s:7.3f} s  {cpu_text(None, text_cpu)}"
        f"  {load()}"
    )
    fresh_table(drop_fulltext=True)
    bare_s, bare_cpu = parallel([copy_in(h) for h in rows])
    print(
        f"db floor: COPY, no full-text indexes : {bare_s:7.3f} s  {cpu_text(None, bare_cpu)}"
        f"  {load()}"
    )


def breakdown(count: int, floor_s: float) -> None:
    """The import without the full-text indexes, then building those indexes in one go."""
    definitions = fresh_table(drop_fulltext=True)
    app = make_app(WORKDIR / "vault")
    with app.app_context():
        empty_stat_cache()
        bare_s, _, cpu = timed_sync(count_cpu=True)
        print(
            f"cold import, no FTS idx : {bare_s:7.3f} s  ({count / bare_s:8.0f} files/s)"
            f"  = {bare_s / floor_s:.2f}x floor  {cpu}  {load()}"
        )
        db.session.remove()
    with psycopg.connect(database_url(), autocommit=True) as conn:
        started = time.perf_counter()
        for _, definition in definitions:
            conn.execute(definition)
        print(f"build FTS+trgm indexes  : {time.perf_counter() - started:7.3f} s  {load()}")


if __name__ == "__main__":
    main()
