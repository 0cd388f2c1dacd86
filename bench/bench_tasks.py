"""GET /api/tasks under load, against a bare endpoint running the same SQL through psycopg.

    python bench/gen_tasks.py            # once: 1,000,000 tasks in cognova_bench
    python bench/bench_tasks.py [--seconds 20] [--clients 20] [--python-clients]
    python bench/bench_tasks.py --rate 200     # paced: p50/p99 when the server is not saturated

Both servers run under gunicorn with the same worker settings. The clients are ApacheBench
(one ``ab -k -c 1`` per client) when installed, else Python threads; the server's CPU time per
request (gunicorn master and workers, from /proc) and the load average are printed beside
each figure. ``--rate R`` replaces the closed loop by an open one: R requests/s in total on
a fixed schedule over the clients, latency counted from each request's scheduled send time
(Python clients). ``--access-log`` turns on gunicorn's access log in both servers. The
queries combine a status filter, a tag filter and a search term (``limit=50``), rotating over
several combinations.
The SQL of the bare endpoint is compiled from the very statements ``services.tasks`` builds,
so the difference between the two is the cost of the framework: authentication, validation,
the ORM and serialization. Targets: p50 ≤ 20 ms, p99 ≤ 80 ms, requests/s ≥ 0.6 × bare.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import multiprocessing
import os
import shutil
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
    """Write {query string: [(sql, params) of the page]} from services.tasks."""
    from cognova import create_app
    from cognova.config import Config
    from cognova.extensions import db
    from cognova.schemas.tasks import TaskQuery
    from cognova.services import tasks

    app = create_app(Config(env={"DATABASE_URL": database_url, "COGNOVA_LOG_LEVEL": "WARNING"}))
    out = {}
    with app.app_context():
        for qs in query_strings():
            from urllib.parse import parse_qs

            raw = {k: v if k in ("status", "tag") else v[0] for k, v in parse_qs(qs).items()}
            params = TaskQuery.model_validate(raw)
            # the SQL text and parameters the HTTP list hands the driver for this query
            out[qs] = [tasks.page_json_sql(params, db.engine.dialect)]
    path.write_text(json.dumps(out, default=str))


_local = threading.local()
_sql: dict | None = None


def bare_app(environ, start_response):
    """WSGI: run the compiled page SQL with psycopg and return the page it writes as JSON."""
    global _sql
    import orjson
    import psycopg

    if _sql is None:
        _sql = json.loads(Path(os.environ["BENCH_SQL"]).read_text())
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    if environ["QUERY_STRING"] not in _sql:  # the start-up probe
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    ((page_sql, page_params),) = _sql[environ["QUERY_STRING"]]
    with conn.cursor() as cur:
        cur.execute(page_sql, page_params)
        data, total = cur.fetchone()
    body = b'{"data":' + data.encode() + b',"total":' + orjson.dumps(total or 0) + b"}"
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


# ------------------------------------------------------------------ servers


def gunicorn(
    target: str, port: int, env: dict, workers: int, threads: int, access_log: bool = False
) -> subprocess.Popen:
    """*target* under gunicorn; with *access_log*, the access log (the production format)
    goes to a file, as it would to a log collector."""
    folder = Path(tempfile.mkdtemp(prefix="cognova-bench-"))
    config = folder / "gunicorn.conf.py"
    accesslog = repr(str(folder / "access.log")) if access_log else None
    config.write_text(
        f"bind = '127.0.0.1:{port}'\nworker_class = 'gthread'\nworkers = {workers}\n"
        f"threads = {threads}\naccesslog = {accesslog}\nerrorlog = '-'\nloglevel = 'warning'\n"
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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of *pid* and its child processes (the gunicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


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


def _paced_process(args) -> list[float]:
    """Open loop: client *n* of *clients* sends its k-th request at ``start + (k + n /
    clients) * clients / rate`` whether or not the previous answer is late; the latency is
    measured from that scheduled time, so time spent queued (in the server or behind this
    client's previous request) counts."""
    port, path, qs_list, first, count, clients, rate, start, seconds, headers = args
    period = clients / rate
    results: list[float] = []
    lock = threading.Lock()

    def run(n: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        k = 0
        while True:
            scheduled = start + (k + n / clients) * period
            if scheduled >= start + seconds:
                break
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            conn.request("GET", f"{path}?{qs_list[(n + k) % len(qs_list)]}", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            mine.append(time.monotonic() - scheduled)
            k += 1
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(first, first + count)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def paced_load(port, path, clients, seconds, headers, warmup, server_pid, cpu_out, rate):
    """*rate* requests/s in total, spread evenly over *clients* open-loop clients."""
    processes = 4 if clients % 4 == 0 else 1
    per = clients // processes
    qs_list = query_strings()

    def jobs(span: float) -> list[tuple]:
        start = time.monotonic() + 0.5  # every process is up before the first send
        return [
            (port, path, qs_list, p * per, per, clients, rate, start, span, headers)
            for p in range(processes)
        ]

    with multiprocessing.Pool(processes) as pool:
        pool.map(_paced_process, jobs(warmup))
        cpu = process_cpu(server_pid)
        parts = pool.map(_paced_process, jobs(seconds))
        cpu_out.append(process_cpu(server_pid) - cpu)
    latencies = sorted(lat for part in parts for lat in part)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def load(port, path, clients, seconds, headers, warmup, server_pid, cpu_out):
    processes = 4 if clients % 4 == 0 else 1
    per = clients // processes
    qs_list = query_strings()
    with multiprocessing.Pool(processes) as pool:
        pool.map(
            _client_process, [(port, path, qs_list, per, warmup, headers)] * processes
        )  # warm caches and connections
        started, cpu = time.monotonic(), process_cpu(server_pid)
        parts = pool.map(
            _client_process, [(port, path, qs_list, per, seconds, headers)] * processes
        )
        elapsed = time.monotonic() - started
        cpu_out.append(process_cpu(server_pid) - cpu)
    latencies = sorted(lat for part in parts for _, lat in part)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def ab_load(port, path, clients, seconds, headers, warmup, server_pid, cpu_out):
    """The same closed loop with ApacheBench: one ``ab -k -c 1`` per client, each on one of
    the query strings in turn, so the load generator takes little CPU from the servers."""
    qs_list = query_strings()
    header_args = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    folder = Path(tempfile.mkdtemp(prefix="cognova-bench-ab-"))

    def run(span: float, record: bool) -> list[subprocess.Popen]:
        procs = []
        for n in range(clients):
            url = f"http://127.0.0.1:{port}{path}?{qs_list[n % len(qs_list)]}"
            gnuplot = ["-g", str(folder / f"{n}.tsv")] if record else []
            procs.append(
                subprocess.Popen(
                    [
                        "ab", "-q", "-k", "-c", "1", "-t", str(span), "-n", "10000000",
                        *gnuplot, *header_args, url,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        return procs

    for proc in run(warmup, False):
        proc.wait()
    started, cpu = time.monotonic(), process_cpu(server_pid)
    for proc in run(seconds, True):
        proc.wait()
    elapsed = time.monotonic() - started
    cpu_out.append(process_cpu(server_pid) - cpu)
    latencies = []
    for n in range(clients):
        lines = (folder / f"{n}.tsv").read_text().splitlines()[1:]
        latencies.extend(float(line.split("\t")[4]) / 1000 for line in lines if line.strip())
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / min(elapsed, seconds),
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


def database_cost(database_url: str, sql_path: Path, seconds: float = 3) -> None:
    """The statements alone, one after another on one connection (prepared after their fifth
    run, as in the servers): wall time and the backend's CPU time per statement, read from
    /proc when PostgreSQL runs on this machine."""
    import psycopg

    statements = [pair for (pair,) in json.loads(sql_path.read_text()).values()]
    with psycopg.connect(database_url, autocommit=True) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        for sql, params in statements * 10:  # past the prepare threshold; caches warm
            conn.execute(sql, params).fetchone()
        cpu, started, count = process_cpu(backend), time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            for sql, params in statements:
                conn.execute(sql, params).fetchone()
                count += 1
        wall = (time.perf_counter() - started) / count * 1000
        used = (process_cpu(backend) - cpu) / count * 1000
    where = f"{used:.2f} ms PostgreSQL CPU" if used else "PostgreSQL CPU not readable here"
    print(f"the statements alone: {wall:.2f} ms each, {where} ({count} runs, one connection)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE_URL)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--python-clients", action="store_true", help="never use ab")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure bare then app this many times; the ratio is the median of the rounds' "
        "(each pair runs back to back, so a slower minute on a shared machine hits both)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="paced (open-loop) mode: this many requests/s in total over the clients, "
        "latency counted from each request's scheduled send time",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="both servers write gunicorn's access log"
    )
    args = parser.parse_args()
    use_ab = shutil.which("ab") is not None and not args.python_clients and not args.rate

    sql_path = Path(tempfile.mkdtemp(prefix="cognova-bench-")) / "sql.json"
    compile_sql(args.database, sql_path)
    explain(args.database, sql_path)
    database_cost(args.database, sql_path)
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
    ratios = []
    for round_number in range(1, args.rounds + 1):
        results = measure_pair(args, env, use_ab)
        report(args, results, use_ab, round_number)
        if not args.rate:
            ratios.append(results["app"]["rps"] / results["bare"]["rps"])
    if len(ratios) > 1:
        print(
            f"\napp/bare throughput over {len(ratios)} rounds: median "
            f"{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}; "
            "target >= 0.6)"
        )


def measure_pair(args, env: dict, use_ab: bool) -> dict:
    results = {}
    for name, target, port, path, headers in (
        ("bare", "bench.bench_tasks:bare_app", 5198, "/bare", {}),
        ("app", "app:app", 5199, "/api/tasks", {"X-API-Token": TOKEN}),
    ):
        load_before = os.getloadavg()[0]
        server = gunicorn(target, port, env, args.workers, args.threads, args.access_log)
        try:
            run = ab_load if use_ab else load
            if args.rate:
                run = functools.partial(paced_load, rate=args.rate)
            cpu: list[float] = []
            results[name] = run(
                port, path, args.clients, args.seconds, headers, args.warmup, server.pid, cpu
            )
            results[name]["load"] = (load_before, os.getloadavg()[0])
            results[name]["cpu"] = cpu[0] * 1000 / max(1, results[name]["requests"])
        finally:
            server.terminate()
            server.wait(10)
    return results


def report(args, results: dict, use_ab: bool, round_number: int) -> None:
    clients = "ab -k" if use_ab else "Python threads"
    mode = f"paced at {args.rate:g} requests/s in total" if args.rate else "closed loop"
    rounds = f"round {round_number} of {args.rounds}: " if args.rounds > 1 else ""
    print(
        f"\n{rounds}{args.clients} clients ({clients}, {mode}), {args.seconds:.0f} s each, "
        f"gunicorn {args.workers} workers x {args.threads} threads"
        f"{', access log on' if args.access_log else ''}, {os.cpu_count()} CPUs"
    )
    for name, r in results.items():
        print(
            f"{name:>5}: {r['requests']:>6} requests  {r['rps']:7.1f} req/s  "
            f"p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  "
            f"server CPU {r['cpu']:.2f} ms/request "
            f"(load average {r['load'][0]:.1f} before, {r['load'][1]:.1f} after)"
        )
    if args.rate:
        return
    ratio = results["app"]["rps"] / results["bare"]["rps"]
    app = results["app"]
    print(
        f"app/bare throughput {ratio:.2f} (target >= 0.6); p50 {app['p50']:.1f} ms "
        f"(target <= 20), p99 {app['p99']:.1f} ms (target <= 80)"
    )


if __name__ == "__main__":
    main()
