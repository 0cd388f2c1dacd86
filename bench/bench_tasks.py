"""GET /api/tasks under load, against a bare endpoint running the same SQL through psycopg.

    python bench/gen_tasks.py            # once: 1,000,000 tasks in cognova_bench
    python bench/bench_tasks.py [--seconds 20] [--clients 20]

Both servers run under gunicorn with the same worker settings. The queries combine a status
filter, a tag filter and a search term (``limit=50``), rotating over several combinations.
The SQL of the bare endpoint is compiled from the very statements ``services.tasks`` builds,
so the difference between the two is the cost of the framework: authentication, validation,
the ORM and serialization. Targets: p50 ≤ 20 ms, p99 ≤ 80 ms, requests/s ≥ 0.6 × bare.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/cognova_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
TOKEN = "bench-token-" + "b" * 32
COMBOS = [
    ("todo", "tag03", "alpha"),
    ("in_progress", "tag11", "beton"),
    ("todo", "tag27", "corex"),
    ("blocked", "tag05", "demira"),
    ("todo", "tag19", "exlark"),
    ("done", "tag33", "fozulu"),
    ("todo", "tag08", "giquin"),
    ("in_progress", "tag21", "hadorn"),
]


def query_strings() -> list[str]:
    return [urlencode({"status": s, "tag": t, "search": q, "limit": 50}) for s, t, q in COMBOS]


# ------------------------------------------------------------------ the bare endpoint


def compile_sql(database_url: str, path: Path) -> None:
    """Write {query string: [(sql, params) for count and page]} from services.tasks."""
    from cognova import create_app
    from cognova.config import Config
    from cognova.extensions import db
    from cognova.schemas.tasks import TaskQuery
    from cognova.services import tasks

    app = create_app(Config(env={"DATABASE_URL": database_url, "COGNOVA_LOG_LEVEL": "WARNING"}))
    out = {}
    with app.app_context():
        dialect = db.engine.dialect
        for qs in query_strings():
            from urllib.parse import parse_qs

            raw = {k: v if k in ("status", "tag") else v[0] for k, v in parse_qs(qs).items()}
            params = TaskQuery.model_validate(raw)
            import sqlalchemy as sa

            # the statement list_tasks runs when a tag or search filter is present
            page = (
                tasks.filtered(params, tasks.joined())
                .order_by(*tasks.ordering(params.sort, params.order))
                .limit(params.limit)
                .offset(0)
                .add_columns(sa.func.count().over())
            )
            statements = []
            for stmt in (page,):
                compiled = stmt.compile(
                    dialect=dialect, compile_kwargs={"render_postcompile": True}
                )
                statements.append((str(compiled), dict(compiled.params)))
            out[qs] = statements
    path.write_text(json.dumps(out, default=str))


_local = threading.local()
_sql: dict | None = None


def bare_app(environ, start_response):
    """WSGI: run the compiled count and page SQL with psycopg and return the rows as JSON."""
    global _sql
    import psycopg

    if _sql is None:
        _sql = json.loads(Path(os.environ["BENCH_SQL"]).read_text())
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    ((page_sql, page_params),) = _sql[environ["QUERY_STRING"]]
    with conn.cursor() as cur:
        cur.execute(page_sql, page_params)
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    total = rows[0].pop(names[-1]) if rows else 0
    for row in rows[1:]:
        row.pop(names[-1])
    body = json.dumps({"data": rows, "total": total}, default=str).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


# ------------------------------------------------------------------ servers


def gunicorn(target: str, port: int, env: dict, workers: int, threads: int) -> subprocess.Popen:
    config = Path(tempfile.mkdtemp(prefix="cognova-bench-")) / "gunicorn.conf.py"
    config.write_text(
        f"bind = '127.0.0.1:{port}'\nworker_class = 'gthread'\nworkers = {workers}\n"
        f"threads = {threads}\naccesslog = None\nerrorlog = '-'\nloglevel = 'warning'\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(config), target],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{target} did not start on port {port}")


# ------------------------------------------------------------------ load


def _client_process(args) -> list[tuple[float, float]]:
    port, path, qs_list, threads, seconds, headers = args
    results: list[tuple[float, float]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(offset: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        i = offset
        while time.monotonic() < stop_at:
            qs = qs_list[i % len(qs_list)]
            i += 1
            started = time.perf_counter()
            conn.request("GET", f"{path}?{qs}", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            mine.append((time.monotonic(), time.perf_counter() - started))
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=run, args=(n * 3,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def load(port: int, path: str, clients: int, seconds: float, headers: dict, warmup: float):
    processes = 4 if clients % 4 == 0 else 1
    per = clients // processes
    qs_list = query_strings()
    with multiprocessing.Pool(processes) as pool:
        pool.map(
            _client_process, [(port, path, qs_list, per, warmup, headers)] * processes
        )  # warm caches and connections
        started = time.monotonic()
        parts = pool.map(
            _client_process, [(port, path, qs_list, per, seconds, headers)] * processes
        )
        elapsed = time.monotonic() - started
    latencies = sorted(lat for part in parts for _, lat in part)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def explain(database_url: str, sql_path: Path) -> None:
    import psycopg

    statements = json.loads(sql_path.read_text())
    with psycopg.connect(database_url) as conn:
        for qs, pair in list(statements.items())[:2]:
            print(f"EXPLAIN ANALYZE for ?{qs}")
            for sql, params in pair:
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
                print("   ", plan[-1][0], "|", plan[0][0][:100])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE_URL)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args()

    sql_path = Path(tempfile.mkdtemp(prefix="cognova-bench-")) / "sql.json"
    compile_sql(args.database, sql_path)
    explain(args.database, sql_path)
    instance = Path(tempfile.mkdtemp(prefix="cognova-bench-instance-"))
    env = {
        "DATABASE_URL": args.database,
        "REDIS_URL": REDIS_URL,
        "COGNOVA_REDIS_NAMESPACE": "cognova-bench",
        "COGNOVA_API_TOKEN": TOKEN,
        "COGNOVA_INSTANCE_PATH": str(instance),
        "VAULT_PATH": str(instance / "vault"),
        "BETTER_AUTH_SECRET": "bench-secret",
        "COGNOVA_LOG_LEVEL": "WARNING",
        "BENCH_SQL": str(sql_path),
    }
    results = {}
    for name, target, port, path, headers in (
        ("bare", "bench.bench_tasks:bare_app", 5198, "/bare", {}),
        ("app", "app:app", 5199, "/api/tasks", {"X-API-Token": TOKEN}),
    ):
        server = gunicorn(target, port, env, args.workers, args.threads)
        try:
            results[name] = load(port, path, args.clients, args.seconds, headers, args.warmup)
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"\n{args.clients} clients, {args.seconds:.0f} s each, gunicorn "
        f"{args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs"
    )
    for name, r in results.items():
        print(
            f"{name:>5}: {r['requests']:>6} requests  {r['rps']:7.1f} req/s  "
            f"p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
        )
    ratio = results["app"]["rps"] / results["bare"]["rps"]
    app = results["app"]
    print(
        f"app/bare throughput {ratio:.2f} (target >= 0.6); p50 {app['p50']:.1f} ms "
        f"(target <= 20), p99 {app['p99']:.1f} ms (target <= 80)"
    )


if __name__ == "__main__":
    main()
