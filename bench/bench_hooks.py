#!/usr/bin/env python
"""Hook analytics at scale: ingestion under 20 concurrent clients against gunicorn, and the stats
over 1,000,000 events.

    python bench/bench_hooks.py [--clients 20] [--seconds 15] [--events 1000000]

Uses a scratch database ``cognova_bench_hooks`` on ``BENCH_SERVER_URL`` (default the local
PostgreSQL) and Redis at ``BENCH_REDIS_URL``. Prints events/s accepted by
``POST /api/hooks/events`` (target ≥ 1,000/s) with the latency of each post, then the time of
``GET /api/hooks/stats?period=30d`` over the seeded events (target ≤ 200 ms).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

BENCH_DB = "cognova_bench_hooks"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "bench-api-token-" + "h" * 24
PORT = 5791


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


def env() -> dict[str, str]:
    instance = Path("/tmp/cognova-bench-hooks")
    instance.mkdir(parents=True, exist_ok=True)
    values = {k: v for k, v in os.environ.items() if not k.startswith("COGNOVA_")}
    values.update(
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        COGNOVA_REDIS_NAMESPACE="cognova-bench-hooks",
        COGNOVA_INSTANCE_PATH=str(instance),
        VAULT_PATH=str(instance / "vault"),
        BETTER_AUTH_SECRET="bench-auth-secret",
        COGNOVA_API_TOKEN=TOKEN,
        ADMIN_PASSWORD="bench-password-123",
        COGNOVA_LOG_LEVEL="WARNING",
        HOST="127.0.0.1",
        PORT=str(PORT),
    )
    return values


def start_gunicorn() -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/api/health")
            status = conn.getresponse().status
            if status < 500:
                return process
            time.sleep(0.3)
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def ingest(clients: int, seconds: float) -> None:
    body = json.dumps(
        {
            "eventType": "PostToolUse",
            "sessionId": "bench-session",
            "projectDir": "/home/ada/app",
            "toolName": "Bash",
            "eventData": {"tool_input": {"command": "npm test"}, "tool_response": {"stdout": "ok"}},
            "durationMs": 12,
        }
    )
    headers = {"X-API-Token": TOKEN, "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/hooks/events", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 201
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                ok = False
            if ok:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    rate = len(latencies) / elapsed
    print(
        f"ingestion: {len(latencies):,} events in {elapsed:.1f} s = {rate:,.0f} events/s "
        f"({clients} clients; {errors[0]} errors); "
        f"latency p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms  "
        + ("ok" if rate >= 1000 else "UNDER 1,000/s")
    )


def seed(events: int) -> None:
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("TRUNCATE hook_events")
        conn.execute(
            """
            INSERT INTO hook_events (event_type, session_id, project_dir, tool_name, blocked,
                                     duration_ms, event_data, created_at)
            SELECT (ARRAY['PreToolUse','PostToolUse','PostToolUse','PreToolUse','UserPromptSubmit',
                          'SessionStart','SessionEnd','PostToolUseFailure'])[1 + n %% 8],
                   'session-' || (n / 200),
                   '/home/ada/project-' || (n %% 40),
                   CASE WHEN n %% 8 < 4 OR n %% 8 = 7
                        THEN (ARRAY['Bash','Read','Write','Edit','Grep','Glob','WebFetch','Task',
                                    'TodoWrite','MultiEdit'])[1 + (n / 8) %% 10] END,
                   n %% 37 = 0,
                   CASE WHEN n %% 3 > 0 THEN 5 + n %% 400 END,
                   '{"tool_input":{"command":"npm test"}}',
                   now() - make_interval(secs => (n::float8 / %s) * 30 * 86400)
            FROM generate_series(0, %s - 1) AS n
            """,
            (events, events),
        )
        conn.execute("VACUUM ANALYZE hook_events")


def stats_timing(runs: int = 20) -> None:
    samples = {}
    for period in ("24h", "7d", "30d"):
        times = []
        for _ in range(runs):
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            started = time.perf_counter()
            conn.request("GET", f"/api/hooks/stats?period={period}", headers={"X-API-Token": TOKEN})
            response = conn.getresponse()
            data = json.loads(response.read())
            times.append((time.perf_counter() - started) * 1000)
            assert response.status == 200, data
        samples[period] = (statistics.median(times), data["data"]["totalEvents"])
    for period, (p50, total) in samples.items():
        verdict = ("ok" if p50 <= 200 else "OVER 200 ms") if period == "30d" else ""
        print(
            f"GET /api/hooks/stats?period={period:<4} over {total:>9,} events: "
            f"p50 {p50:7.1f} ms  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    recreate_database()
    server = start_gunicorn()
    try:
        ingest(args.clients, args.seconds)
        started = time.perf_counter()
        seed(args.events)
        print(
            f"seeded {args.events:,} events over 30 days in {time.perf_counter() - started:.1f} s"
        )
        stats_timing()
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()
