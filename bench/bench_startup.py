#!/usr/bin/env python
"""Seconds from launching ``python -m flask --app app up`` to the first 200 from /api/health.

This is ``make run`` on a machine where the packages are already installed (make's own check of
the install stamp takes milliseconds). Two modes:

- embedded: no DATABASE_URL/REDIS_URL; a fresh instance folder for the first start (includes
  initdb of the embedded PostgreSQL and the migrations), the same folder for the warm starts;
- external: DATABASE_URL/REDIS_URL point at running servers (a scratch database is created,
  migrated on the first start, reused after).

Each start is stopped with SIGINT (a terminal's Ctrl-C) and the time to stop is shown too.

    python bench/bench_startup.py [--runs 3] [--mode embedded|external|both]
        [--server URL] [--redis URL]   (defaults: $BENCH_SERVER_URL / $BENCH_REDIS_URL, else local)

Target: <= 10 s to the first 200.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "cognova_bench_startup"
SCRUB = ("DATABASE_URL", "REDIS_URL", "COGNOVA_INSTANCE_PATH", "VAULT_PATH", "XDG_RUNTIME_DIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def one_start(env: dict[str, str], timeout: float = 120) -> tuple[float, float]:
    """(seconds to the first 200, seconds to stop after SIGINT)."""
    port = free_port()
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1"}
    url = f"http://127.0.0.1:{port}/api/health"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while health(url) != 200:
            if proc.poll() is not None:
                raise SystemExit(f"`flask up` exited with {proc.returncode} before serving")
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"no 200 from {url} within {timeout}s")
            time.sleep(0.02)
        ready = time.perf_counter() - started
        stop_at = time.perf_counter()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
        return ready, time.perf_counter() - stop_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recreate_scratch(server: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (SCRATCH_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    return _with_db(server, SCRATCH_DB)


def report(label: str, results: list[tuple[float, float]]) -> None:
    first, warm = results[0], results[1:]
    print(f"{label}: first start {first[0]:.2f} s to 200 (stop {first[1]:.2f} s)")
    if warm:
        ready = [r for r, _ in warm]
        stops = [s for _, s in warm]
        print(
            f"{label}: warm starts  median {statistics.median(ready):.2f} s to 200, "
            f"min {min(ready):.2f}, max {max(ready):.2f} "
            f"(stop median {statistics.median(stops):.2f} s) over {len(warm)} runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="warm starts after the first")
    parser.add_argument("--mode", choices=("embedded", "external", "both"), default="both")
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()

    base = {k: v for k, v in os.environ.items() if k not in SCRUB}
    base.update(
        ADMIN_PASSWORD=base.get("ADMIN_PASSWORD") or "bench password 123",
        COGNOVA_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    if args.mode in ("embedded", "both"):
        instance = Path(tempfile.mkdtemp(prefix="cognova-bench-startup-"))
        try:
            env = {**base, "COGNOVA_INSTANCE_PATH": str(instance / "instance")}
            results = [one_start(env) for _ in range(args.runs + 1)]
            report("embedded PostgreSQL + Redis", results)
        finally:
            shutil.rmtree(instance, ignore_errors=True)

    if args.mode in ("external", "both"):
        instance = Path(tempfile.mkdtemp(prefix="cognova-bench-startup-"))
        try:
            env = {
                **base,
                "DATABASE_URL": recreate_scratch(args.server),
                "REDIS_URL": args.redis,
                "COGNOVA_REDIS_NAMESPACE": "cognova-bench-startup",
                "COGNOVA_INSTANCE_PATH": str(instance / "instance"),
            }
            results = [one_start(env) for _ in range(args.runs + 1)]
            report("external PostgreSQL + Redis", results)
        finally:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
