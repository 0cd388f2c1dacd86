"""10,000 due reminders: all fired and delivered by webhook within 30 s, none twice.

    python bench/gen_tasks.py            # once (any size; reminders only need the user row)
    python bench/bench_reminders.py [--reminders 10000] [--workers 3] [--clocks 2]

Starts real processes — RQ workers (``flask worker``) and clocks (``flask clock``, 1 s tick; two
of them, so the advisory lock and the conditional claim are both exercised) — against the
benchmark database, with the token user's ``notifications.webhookUrl`` pointing at a local
receiver. It times, from the start of the clocks: every reminder marked ``notified``, every
``resource_change``/``complete`` event on Redis, and every webhook POST; and counts duplicates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/cognova_bench"
REDIS_URL = "redis://127.0.0.1:6379/0"
NAMESPACE = "cognova-bench-reminders"


class Receiver:
    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.last = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.counts[body["reminder"]["id"]] += 1
                    receiver.last = time.monotonic()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class EventCounter:
    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.last = 0.0
        # kept on the instance: a collected client closes its pool, and the subscription with it
        self.client = redis.Redis.from_url(REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(f"{NAMESPACE}:notifications")
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        for message in self.pubsub.listen():
            if message["type"] != "message":
                continue
            event = json.loads(message["data"])
            if event["resource"] == "reminder" and event["action"] == "complete":
                self.counts[event["resourceId"]] += 1
                self.last = time.monotonic()


def prepare(database_url: str, count: int, webhook: str) -> set[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM reminders")
        user_id = conn.execute('SELECT id FROM "user" ORDER BY created_at, id LIMIT 1').fetchone()
        if user_id is None:
            raise SystemExit("no user in the benchmark database: run bench/gen_tasks.py first")
        conn.execute(
            "INSERT INTO user_settings (id, user_id, settings, created_at, updated_at) "
            "VALUES (gen_random_uuid(), %s, %s, now(), now()) "
            "ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings",
            (user_id[0], json.dumps({"notifications": {"webhookUrl": webhook}})),
        )
        task_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM tasks WHERE deleted_at IS NULL LIMIT %s", (count // 2,)
            )
        ]
        with conn.cursor().copy(
            "COPY reminders (id, task_id, message, remind_at, notified) FROM STDIN"
        ) as copy:
            for n, rid in enumerate(ids):
                task = task_ids[n] if n < len(task_ids) else None
                copy.write_row((rid, task, f"Reminder {n}", "2020-01-01T00:00:00Z", False))
        conn.commit()
        conn.execute("ANALYZE reminders")
        conn.commit()
    return set(ids)


def notified(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM reminders WHERE notified").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE_URL)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clocks", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{NAMESPACE}*", count=1000):
        client.delete(key)
    receiver = Receiver()
    events = EventCounter()
    expected = prepare(args.database, args.reminders, receiver.url)
    instance = Path(tempfile.mkdtemp(prefix="cognova-bench-instance-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "REDIS_URL": REDIS_URL,
        "COGNOVA_REDIS_NAMESPACE": NAMESPACE,
        "COGNOVA_INSTANCE_PATH": str(instance),
        "VAULT_PATH": str(instance / "vault"),
        "BETTER_AUTH_SECRET": "bench-secret",
        "COGNOVA_LOG_LEVEL": "WARNING",
        "COGNOVA_CLOCK_TICK": "1",
        "PYTHONPATH": str(ROOT),
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    procs = [
        subprocess.Popen([*flask, "worker", "--queue", "default"], cwd=ROOT, env=env)
        for _ in range(args.workers)
    ]
    time.sleep(3)  # workers up before the clocks start firing
    started = time.monotonic()
    procs += [subprocess.Popen([*flask, "clock"], cwd=ROOT, env=env) for _ in range(args.clocks)]
    all_notified = None
    try:
        while time.monotonic() - started < args.timeout:
            time.sleep(0.5)
            if all_notified is None and notified(args.database) == len(expected):
                all_notified = time.monotonic() - started
            if len(receiver.counts) >= len(expected) and len(events.counts) >= len(expected):
                break
        time.sleep(2)  # let any duplicate arrive before counting
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    delivered = set(receiver.counts)
    twice = sum(1 for n in receiver.counts.values() if n > 1)
    events_twice = sum(1 for n in events.counts.values() if n > 1)
    print(
        f"\n{len(expected):,} due reminders, {args.clocks} clocks (1 s tick), "
        f"{args.workers} RQ workers, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  all marked notified after   {all_notified or float('nan'):6.1f} s")
    print(f"  marked notified at the end  {notified(args.database):,}")
    print(
        f"  resource_change events      {len(events.counts):,} distinct, {events_twice} twice, "
        f"last after {(events.last - started) if events.last else float('nan'):.1f} s"
    )
    print(
        f"  webhook POSTs               {len(delivered & expected):,} distinct, {twice} twice, "
        f"last after {(receiver.last - started) if receiver.last else float('nan'):.1f} s"
    )
    ok = delivered == expected and twice == 0 and receiver.last - started <= 30
    print(f"  target (all within 30 s, none twice): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
