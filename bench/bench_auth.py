#!/usr/bin/env python
"""Sign-in latency and ``GET /api/auth/get-session`` under 20 concurrent clients, on gunicorn.

The server is the production web process (``gunicorn --config gunicorn.conf.py``: gthread,
WEB_CONCURRENCY workers x COGNOVA_WEB_THREADS threads, app preloaded) serving the app wrapped in a
small WSGI middleware. It times each request from the moment gunicorn hands it to the app until
the response body is complete ("server time": routing, the session lookup in PostgreSQL, JSON,
cookies; not HTTP parsing or the network) and the CPU time of the handling thread, and appends
both to a per-process file that this script reads after each phase. Client-side latency is shown
next to it.

The 20 clients are ApacheBench (``ab -k``, from apache2-utils) when it is installed, so the load
generator takes little CPU from the server; otherwise 20 Python threads, one keep-alive
connection each.

    python bench/bench_auth.py [--clients 20] [--seconds 10] [--sign-ins 20] [--python-clients]
        [--server URL] [--redis URL]   (defaults: $BENCH_SERVER_URL / $BENCH_REDIS_URL, else local)

Targets: get-session p50 <= 5 ms server time. Sign-in is dominated by scrypt (N=16384, r=16,
p=1, 32 MiB of memory per check), measured on its own too.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "cognova_bench_auth"
EMAIL = "bench@example.com"
PASSWORD = "bench password 123"
GET_SESSION = "/api/auth/get-session"
SIGN_IN = "/api/auth/sign-in/email"


# ------------------------------------------------------------------ the timed app (server side)


def timed_app():
    """gunicorn factory (``bench_auth:timed_app()``): the app, timing every request to a file."""
    sys.path.insert(0, str(ROOT))
    from app import app

    folder = os.environ["BENCH_TIMINGS_DIR"]
    sink = {"pid": None, "fd": None}

    def record(line: str) -> None:
        if sink["pid"] != os.getpid():  # first request after the fork
            sink["pid"] = os.getpid()
            path = os.path.join(folder, f"{os.getpid()}.log")
            sink["fd"] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(sink["fd"], line.encode())

    def middleware(environ, start_response):
        started, cpu_started = time.perf_counter(), time.thread_time()
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        wall = (time.perf_counter() - started) * 1000
        cpu = (time.thread_time() - cpu_started) * 1000
        record(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {wall:.4f} {cpu:.4f}\n")
        return [body]

    return middleware


def collect(folder: Path, path: str) -> list[tuple[float, float]]:
    """(wall ms, cpu ms) of every request to *path* since the last call; then start afresh."""
    timings = []
    for log in folder.glob("*.log"):
        for line in log.read_text().splitlines():
            _method, logged_path, wall, cpu = line.split()
            if logged_path == path:
                timings.append((float(wall), float(cpu)))
        os.truncate(log, 0)  # appends continue at the new end (O_APPEND)
    return timings


# ------------------------------------------------------------------ clients


def request(conn, method, path, body=None, headers=None):
    payload = json.dumps(body).encode() if body is not None else None
    hdrs = dict(headers or {})
    if payload is not None:
        hdrs["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=payload, headers=hdrs)
    response = conn.getresponse()
    data = response.read()
    return response, data, (time.perf_counter() - started) * 1000


def python_clients(port: int, cookie: str, clients: int, seconds: float):
    """(client ms list, error list) of *clients* threads hammering get-session."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            response, data, ms = request(conn, "GET", GET_SESSION, headers={"Cookie": cookie})
            if response.status != 200 or b"session" not in data:
                errors.append(f"{response.status} {data[:100]!r}")
                break
            mine.append(ms)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def ab_clients(port: int, cookie: str, clients: int, seconds: float) -> dict:
    """Run ApacheBench; returns its client-side p50/p99, throughput and failures."""
    out = subprocess.run(
        [
            "ab", "-q", "-k", "-c", str(clients), "-t", str(seconds), "-n", "10000000",
            "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{GET_SESSION}",
        ],
        capture_output=True, text=True, timeout=seconds + 60,
    ).stdout  # fmt: skip

    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.MULTILINE)
        return float(match.group(1)) if match else float("nan")

    return {
        "p50": number(r"^\s*50%\s+(\d+)"),
        "p99": number(r"^\s*99%\s+(\d+)"),
        "rps": number(r"Requests per second:\s+([\d.]+)"),
        "failed": number(r"Failed requests:\s+(\d+)"),
        "non2xx": number(r"Non-2xx responses:\s+(\d+)") if "Non-2xx" in out else 0,
        "complete": number(r"Complete requests:\s+(\d+)"),
    }


# ------------------------------------------------------------------ reporting


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def show_server(label: str, timings: list[tuple[float, float]]) -> None:
    wall = [w for w, _ in timings]
    cpu = [c for _, c in timings]
    print(
        f"{label}: n={len(timings)}  server time p50 {pct(wall, 50):.2f} ms, "
        f"p99 {pct(wall, 99):.2f} ms  (CPU of the handling thread p50 {pct(cpu, 50):.2f} ms)"
    )


def show_client(latencies: list[float]) -> None:
    print(f"    client p50 {pct(latencies, 50):.2f} ms, p99 {pct(latencies, 99):.2f} ms")


# ------------------------------------------------------------------ set-up


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_scratch(server: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (SCRATCH_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + SCRATCH_DB, parts.query, ""))


def scrypt_ms(runs: int = 10) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from cognova.services import auth

    stored = auth.hash_password(PASSWORD)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert auth.verify_password(PASSWORD, stored)
        times.append((time.perf_counter() - started) * 1000)
    return times


def wait_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            if request(conn, "GET", "/api/health")[0].status == 200:
                conn.close()
                return
        except (OSError, http.client.HTTPException):
            pass
        conn.close()
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("gunicorn did not come up:\n" + log.read_text()[-3000:])
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sign-ins", type=int, default=20)
    parser.add_argument("--python-clients", action="store_true", help="never use ab")
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()

    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="cognova-bench-auth-"))
    timings_dir = work / "timings"
    timings_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": recreate_scratch(args.server),
        "REDIS_URL": args.redis,
        "COGNOVA_REDIS_NAMESPACE": "cognova-bench-auth",
        "COGNOVA_INSTANCE_PATH": str(work / "instance"),
        "ADMIN_EMAIL": EMAIL,
        "ADMIN_PASSWORD": PASSWORD,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "COGNOVA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "bench"),
        "BENCH_TIMINGS_DIR": str(timings_dir),
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log_path = work / "gunicorn.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [gunicorn, "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null",
         "bench_auth:timed_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_serving(port, server, log_path)
        use_ab = shutil.which("ab") is not None and not args.python_clients
        print(
            f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; gunicorn "
            f"{env.get('WEB_CONCURRENCY') or 2} workers x {env.get('COGNOVA_WEB_THREADS') or 32} "
            f"threads (gthread); clients: {'ab -k' if use_ab else 'Python threads'}"
        )
        verify = scrypt_ms()
        print(f"scrypt check alone (in this process): p50 {statistics.median(verify):.1f} ms")

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, cookie = [], ""
        for _ in range(args.sign_ins):
            response, data, ms = request(
                conn, "POST", SIGN_IN, {"email": EMAIL, "password": PASSWORD}
            )
            assert response.status == 200, data
            latencies.append(ms)
            cookie = response.getheader("Set-Cookie").split(";")[0]
        show_server("sign-in, sequential", collect(timings_dir, SIGN_IN))
        show_client(latencies)

        for _ in range(100):  # warm both workers' pools and caches
            request(conn, "GET", GET_SESSION, headers={"Cookie": cookie})
        conn.close()
        collect(timings_dir, GET_SESSION)

        latencies, errors = python_clients(port, cookie, 1, min(3.0, args.seconds))
        show_server("get-session, 1 client", collect(timings_dir, GET_SESSION))
        show_client(latencies)

        label = f"get-session, {args.clients} concurrent clients"
        if use_ab:
            result = ab_clients(port, cookie, args.clients, args.seconds)
            show_server(label, collect(timings_dir, GET_SESSION))
            print(
                f"    client (ab) p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms; "
                f"{result['rps']:.0f} requests/s; failed {result['failed']:.0f}, "
                f"non-2xx {result['non2xx']:.0f}"
            )
        else:
            started = time.perf_counter()
            latencies, errors = python_clients(port, cookie, args.clients, args.seconds)
            took = time.perf_counter() - started
            if errors:
                raise SystemExit(f"errors under load: {errors[:3]}")
            show_server(label, collect(timings_dir, GET_SESSION))
            show_client(latencies)
            print(f"    {len(latencies) / took:.0f} requests/s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
