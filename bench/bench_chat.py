#!/usr/bin/env python
"""Chat streaming figures against a zero-delay Anthropic double (issue "Claude inside Cognova").

    python bench/bench_chat.py [--samples 30] [--concurrent 20] [--deltas 1000] [--workers 4]

Starts the double (``--bench`` mode: ``deltas=N`` in a message gets exactly N text deltas),
gunicorn serving the app, and RQ worker processes, on a scratch database ``cognova_bench_chat``
on ``BENCH_SERVER_URL`` (default the local PostgreSQL) and Redis at ``BENCH_REDIS_URL``. Prints:

* first delta: POST /api/chat → first ``text_delta`` at the client, vs. the SDK alone opening a
  stream on the double → its first text delta (p50/p90; target: Cognova adds ≤ 30 ms at p50);
* per-delta relay overhead: (first→last delta span through Cognova − the SDK's span) / deltas
  for a 1,000-delta reply (target ≤ 2 ms);
* N concurrent chats × 1,000 deltas: every event id contiguous, the text exact, no lost or
  duplicated delta.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402
import httpx  # noqa: E402
import psycopg  # noqa: E402

from tests.fakes.anthropic_double import bench_text  # noqa: E402

BENCH_DB = "cognova_bench_chat"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
NAMESPACE = "cognova-bench-chat"
TOKEN = "bench-api-token-" + "c" * 24


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + BENCH_DB, parts.query, parts.fragment))


def recreate_database() -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (BENCH_DB,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def bench_env(double_url: str, port: int) -> dict[str, str]:
    instance = Path("/tmp/cognova-bench-chat")
    instance.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNOVA_", "ANTHROPIC_"))}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        COGNOVA_REDIS_NAMESPACE=NAMESPACE,
        COGNOVA_INSTANCE_PATH=str(instance),
        VAULT_PATH=str(instance / "vault"),
        BETTER_AUTH_SECRET="bench-auth-secret",
        COGNOVA_API_TOKEN=TOKEN,
        ADMIN_PASSWORD="bench-password-123",
        COGNOVA_LOG_LEVEL="WARNING",
        ANTHROPIC_API_KEY="bench-key",
        ANTHROPIC_BASE_URL=double_url,
        ANTHROPIC_MAX_RETRIES="0",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ----------------------------------------------------------------- measurements


def sdk_stream(client: anthropic.Anthropic, deltas: int) -> tuple[float, float, float]:
    """(start → first delta, first → last delta, start → end) in seconds, SDK alone."""
    started = time.perf_counter()
    first = last = None
    with client.messages.stream(
        model="claude-sonnet-4-6",
        max_tokens=4096,
        messages=[{"role": "user", "content": f"deltas={deltas}"}],
    ) as stream:
        for event in stream:
            if event.type == "text":
                last = time.perf_counter()
                first = first or last
    return first - started, last - first, time.perf_counter() - started


def parse_events(raw: str) -> list[tuple[str, str, str]]:
    out = []
    for chunk in raw.split("\n\n"):
        fields = {}
        for line in chunk.split("\n"):
            if line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
        if "event" in fields:
            out.append((fields.get("id", ""), fields["event"], fields.get("data", "")))
    return out


def cognova_stream(http: httpx.Client, deltas: int) -> dict:
    """One chat turn through Cognova; times taken at the client, all events kept."""
    import json

    started = time.perf_counter()
    first = last = accepted = None
    events: list[tuple[str, str, dict]] = []
    buffer = ""
    with http.stream("POST", "/api/chat", json={"message": f"deltas={deltas}"}) as response:
        response.raise_for_status()
        for chunk in response.iter_text():
            buffer += chunk
            complete, _, buffer = buffer.rpartition("\n\n")
            for event_id, name, data in parse_events(complete):
                now = time.perf_counter()
                accepted = accepted or now
                if name == "text_delta":
                    last = now
                    first = first or now
                events.append((event_id, name, json.loads(data)))
    return {
        "first": first - started if first else None,
        "accepted": accepted - started if accepted else None,
        "span": (last - first) if first else None,
        "total": time.perf_counter() - started,
        "events": events,
    }


def check(events: list[tuple[str, str, dict]], deltas: int) -> tuple[int, int, bool]:
    """(lost, duplicated, text exact) for one turn's events."""
    seqs = [int(e[0].rsplit(":", 1)[1]) for e in events]
    expected = list(range(1, max(seqs) + 1))
    lost = len(set(expected) - set(seqs))
    duplicated = len(seqs) - len(set(seqs))
    text = "".join(e[2]["delta"] for e in events if e[1] == "text_delta")
    exact = text == bench_text(deltas) and events[-1][1] == "stream_end"
    return lost, duplicated, exact


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--deltas", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    recreate_database()
    double_port, web_port = free_port(), free_port()
    double_url = f"http://127.0.0.1:{double_port}"
    env = bench_env(double_url, web_port)
    python = sys.executable
    procs: list[subprocess.Popen] = []

    def spawn(cmd: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        procs.append(proc)
        return proc

    try:
        spawn(
            [
                python,
                "-m",
                "tests.fakes.anthropic_double",
                "--port",
                str(double_port),
                "--bench",
                "--delay",
                "0",
            ]
        )
        spawn([python, "-m", "gunicorn", "--config", "gunicorn.conf.py", "app:app"])
        wait_http(f"http://127.0.0.1:{web_port}/api/health")
        for _ in range(args.workers):
            spawn(
                [
                    python,
                    "-m",
                    "flask",
                    "--app",
                    "app",
                    "worker",
                    "--queue",
                    "chat",
                    "--queue",
                    "default",
                ]
            )
        time.sleep(3)  # workers import the app

        sdk = anthropic.Anthropic(api_key="bench-key", base_url=double_url, max_retries=0)
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{web_port}", headers={"X-API-Token": TOKEN}, timeout=120
        )
        for _ in range(3):  # warm connections, imports and caches on every side
            sdk_stream(sdk, 20)
            cognova_stream(http, 20)

        print(f"== first text delta ({args.samples} samples each, 20-delta replies)")
        sdk_first = [sdk_stream(sdk, 20)[0] * 1000 for _ in range(args.samples)]
        cog_runs = [cognova_stream(http, 20) for _ in range(args.samples)]
        cog_first = [r["first"] * 1000 for r in cog_runs]
        cog_accept = [r["accepted"] * 1000 for r in cog_runs]
        for name, values in (
            ("SDK alone", sdk_first),
            ("Cognova POST", cog_first),
            ("(1st event)", cog_accept),
        ):
            print(f"  {name:13s} p50 {pct(values, 50):7.1f} ms   p90 {pct(values, 90):7.1f} ms")
        added = pct(cog_first, 50) - pct(sdk_first, 50)
        print(f"  Cognova adds  p50 {added:7.1f} ms   (target <= 30 ms)")

        print(f"== per-delta relay overhead ({args.deltas}-delta replies, 5 samples each)")
        sdk_spans = [sdk_stream(sdk, args.deltas)[1] for _ in range(5)]
        cog_runs = [cognova_stream(http, args.deltas) for _ in range(5)]
        cog_spans = [r["span"] for r in cog_runs]
        sdk_span, cog_span = statistics.median(sdk_spans), statistics.median(cog_spans)
        per_delta = (cog_span - sdk_span) / (args.deltas - 1) * 1000
        print(f"  SDK alone     first->last {sdk_span * 1000:8.1f} ms")
        print(f"  Cognova       first->last {cog_span * 1000:8.1f} ms")
        print(f"  overhead per delta {per_delta:.3f} ms   (target <= 2 ms)")
        for run in cog_runs:
            lost, dup, exact = check(run["events"], args.deltas)
            assert lost == dup == 0 and exact, (lost, dup, exact)

        print(
            f"== {args.concurrent} concurrent chats x {args.deltas} deltas ({args.workers} workers)"
        )
        results: list[dict] = [{} for _ in range(args.concurrent)]

        def one(index: int) -> None:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{web_port}", headers={"X-API-Token": TOKEN}, timeout=300
            ) as client:
                results[index] = cognova_stream(client, args.deltas)

        started = time.perf_counter()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(args.concurrent)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        lost = dup = inexact = 0
        for result in results:
            if not result:
                inexact += 1
                continue
            turn_lost, turn_dup, exact = check(result["events"], args.deltas)
            lost, dup, inexact = lost + turn_lost, dup + turn_dup, inexact + (not exact)
        total = args.concurrent * args.deltas
        print(f"  {total} deltas in {elapsed:.2f} s ({total / elapsed:,.0f} deltas/s relayed)")
        print(f"  lost {lost}, duplicated {dup}, turns with wrong text or no stream_end {inexact}")
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
