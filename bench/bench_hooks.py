#!/usr/bin/env python
"""Hook analytics at scale: ingestion under 20 concurrent clients against gunicorn, and the stats
over 1,000,000 events.

    python bench/bench_hooks.py [--clients 20] [--seconds 15] [--events 1000000] [--ingest-only]
        [--python-clients]

Uses a scratch database ``cognova_bench_hooks`` on ``BENCH_SERVER_URL`` (default the local
PostgreSQL) and Redis at ``BENCH_REDIS_URL``. Prints events/s accepted by
``POST /api/hooks/events`` (target ≥ 1,000/s) with the client latency, the CPU time per event of
gunicorn and of the database's backends, and the load average; then the time of
``GET /api/hooks/stats?period=30d`` over the seeded events (target ≤ 200 ms). The clients are
ApacheBench (``ab -k``) when installed, so the load generator takes little CPU from the server,
else Python threads.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

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


def bare_app(environ, start_response):
    """gunicorn target for ``--floor``: reads the body and answers 201, nothing else."""
    environ["wsgi.input"].read()
    body = b'{"data":{}}'
    start_response("201 CREATED", [("Content-Type", "application/json")])
    return [body]


def start_gunicorn(target: str = "app:app") -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", target],
        cwd=ROOT,
        env={**env(), "PYTHONPATH": str(ROOT / "bench")},
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


BODY = json.dumps(
    {
        "eventType": "PostToolUse",
        "sessionId": "bench-session",
        "projectDir": "/home/ada/app",
        "toolName": "Bash",
        "eventData": {"tool_input": {"command": "npm test"}, "tool_response": {"stdout": "ok"}},
        "durationMs": 12,
    }
)
HEADERS = {"X-API-Token": TOKEN, "Content-Type": "application/json"}


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    return times


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples; processes born in between count from zero."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def server_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn master and its workers."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [server.pid, *map(int, children)]


def database_pids() -> list[int]:
    """PostgreSQL backends serving the scratch database (the server's own processes, such as
    the WAL writer, are not counted: other work on the machine shares them)."""
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (BENCH_DB,),
        ).fetchall()
    return [pid for (pid,) in rows]


def python_clients(clients: int, seconds: float) -> tuple[list[float], int]:
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
                conn.request("POST", "/api/hooks/events", body=BODY, headers=HEADERS)
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
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return latencies, errors[0]


def ab_clients(clients: int, seconds: float) -> dict:
    """ApacheBench with keep-alive: (events, p50 ms, p99 ms, errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as body:
        body.write(BODY)
        body.flush()
        out = subprocess.run(
            ["ab", "-q", "-k", "-c", str(clients), "-t", str(seconds), "-n", "100000000",
             "-p", body.name, "-T", "application/json", "-H", f"X-API-Token: {TOKEN}",
             f"http://127.0.0.1:{PORT}/api/hooks/events"],
            capture_output=True, text=True, timeout=seconds + 60,
        ).stdout  # fmt: skip

    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    complete = number(r"Complete requests:\s+(\d+)")
    errors = number(r"Failed requests:\s+(\d+)") + number(r"Non-2xx responses:\s+(\d+)")
    return {
        "events": int(complete - errors),
        "p50": number(r"^\s*50%\s+(\d+)"),
        "p99": number(r"^\s*99%\s+(\d+)"),
        "errors": int(errors),
    }


def ingest(server: subprocess.Popen, clients: int, seconds: float, use_ab: bool) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    conn.request("POST", "/api/hooks/events", body=BODY, headers=HEADERS)
    response = conn.getresponse()
    assert response.status == 201, response.read()
    conn.close()
    # Warm up every worker's pools, prepared statements and caches under the same load.
    (ab_clients if use_ab else python_clients)(clients, 2)
    app_cpu, db_cpu = cpu_seconds(server_pids(server)), cpu_seconds(database_pids())
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    if use_ab:
        result = ab_clients(clients, seconds)
        events, errors = result["events"], result["errors"]
        p50, p99 = result["p50"], result["p99"]
    else:
        latencies, errors = python_clients(clients, seconds)
        events = len(latencies)
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
    elapsed = time.monotonic() - started
    app_cpu = cpu_spent(app_cpu, cpu_seconds(server_pids(server))) * 1000 / max(events, 1)
    db_cpu = cpu_spent(db_cpu, cpu_seconds(database_pids())) * 1000 / max(events, 1)
    rate = events / elapsed
    print(
        f"ingestion: {events:,} events in {elapsed:.1f} s = {rate:,.0f} events/s "
        f"({clients} clients, {'ab -k' if use_ab else 'Python threads'}; {errors} errors); "
        f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms  "
        + ("ok" if rate >= 1000 else "UNDER 1,000/s")
    )
    print(
        f"    CPU per event: gunicorn {app_cpu:.2f} ms, PostgreSQL backends {db_cpu:.2f} ms; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"({os.cpu_count()} CPUs)"
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
    # The stats keep finished days in Redis; rows written straight into past days (never the
    # case through the API, which stamps events with the current time) make those stale.
    cache = redis.Redis.from_url(REDIS_URL)
    for key in cache.scan_iter("cognova-bench-hooks*"):
        cache.delete(key)


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
    parser.add_argument("--python-clients", action="store_true", help="never use ab")
    parser.add_argument("--ingest-only", action="store_true", help="skip the stats part")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time gunicorn (same configuration) serving a bare WSGI callable",
    )
    args = parser.parse_args()
    recreate_database()
    use_ab = shutil.which("ab") is not None and not args.python_clients
    if args.floor:
        server = start_gunicorn("bench_hooks:bare_app")
        try:
            print("gunicorn alone (a bare WSGI callable answering 201):")
            ingest(server, args.clients, args.seconds, use_ab)
        finally:
            server.terminate()
            server.wait(15)
    server = start_gunicorn()
    try:
        ingest(server, args.clients, args.seconds, use_ab)
        if args.ingest_only:
            return
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
