#!/usr/bin/env python
"""Cron agents at scale: 1,000 enabled agents on ``* * * * *``, a zero-delay Anthropic double,
2 RQ workers on the ``agents`` queue and 2 clock processes, for a few minutes.

    python bench/bench_agents.py [--agents 1000] [--minutes 5] [--workers 2] [--kill-leader]

Uses a scratch database ``cognova_bench_agents`` on ``BENCH_SERVER_URL`` (default the local
PostgreSQL) and Redis at ``BENCH_REDIS_URL``. Prints, per scheduled minute and overall:

* fire delay: scheduled instant → run row started (the clock fired it), p50/p99;
* enqueue and pickup delays: scheduled instant → job enqueued / job started by a worker;
* runs completed per second while the minute's runs drain;
* duplicates: (agent, minute) pairs with more than one run (target 0), and missed fires.

``--kill-leader`` SIGKILLs the acting clock half-way and starts a new one, to show a takeover
neither repeats nor loses a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

BENCH_DB = "cognova_bench_agents"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
NAMESPACE = "cognova-bench-agents"


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


def bench_env(double_url: str) -> dict[str, str]:
    instance = Path("/tmp/cognova-bench-agents")
    instance.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNOVA_", "ANTHROPIC_"))}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        COGNOVA_REDIS_NAMESPACE=NAMESPACE,
        COGNOVA_INSTANCE_PATH=str(instance),
        VAULT_PATH=str(instance / "vault"),
        BETTER_AUTH_SECRET="bench-auth-secret",
        COGNOVA_API_TOKEN="bench-api-token-" + "a" * 24,
        ADMIN_PASSWORD="bench-password-123",
        COGNOVA_LOG_LEVEL="WARNING",
        COGNOVA_CLOCK_TICK="0.2",
        ANTHROPIC_API_KEY="bench-key",
        ANTHROPIC_BASE_URL=double_url,
        ANTHROPIC_MAX_RETRIES="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def start(name: str, env: dict, logs: Path) -> subprocess.Popen:
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    cmd = flask + (["worker", "--queue", "agents"] if name.startswith("worker") else ["clock"])
    out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-leader", action="store_true")
    args = parser.parse_args()

    from rq.job import Job

    from cognova import boot, create_app
    from cognova.config import Config
    from cognova.extensions import db, redis_client, redis_key
    from cognova.models.agents import CronAgent, CronAgentRun
    from cognova.services import agent_schedule
    from tests.fakes.anthropic_double import AnthropicDouble, text

    double = AnthropicDouble(fallback=lambda _body: text("Done."))
    # Small SSE writes meet delayed ACKs: without TCP_NODELAY every call waits ~40 ms.
    double.server.RequestHandlerClass.disable_nagle_algorithm = True
    double.start()
    env = bench_env(double.url)
    recreate_database()
    app = create_app(Config(env=env))
    logs = Path("/tmp/cognova-bench-agents/logs")
    logs.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        boot.migrate_database()
        r = redis_client()
        for key in r.scan_iter(match=f"*{NAMESPACE}*", count=1000):
            r.delete(key)
        now = datetime.now(UTC)
        db.session.execute(
            sa.insert(CronAgent),
            [
                {
                    "id": uuid.uuid4(),
                    "name": f"bench agent {i:04d}",
                    "schedule": "* * * * *",
                    "prompt": "Say done.",
                    "enabled": True,
                    "max_turns": 5,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(args.agents)
            ],
        )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(CronAgent.id)))
        for agent_id in ids:
            agent_schedule.mark_rescheduled(agent_id, now)
    print(f"{args.agents} agents on '* * * * *'; double at {double.url}", flush=True)

    procs = {f"worker-{i + 1}": start(f"worker-{i + 1}", env, logs) for i in range(args.workers)}
    procs["clock-1"] = start("clock-1", env, logs)
    procs["clock-2"] = start("clock-2", env, logs)
    first = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (first - datetime.now(UTC)).total_seconds() < 10:  # give the processes time to boot
        first += timedelta(minutes=1)
    minutes = [first + timedelta(minutes=m) for m in range(args.minutes)]
    end = minutes[-1] + timedelta(seconds=58)
    print(f"measuring minutes {minutes[0]:%H:%M}–{minutes[-1]:%H:%M} UTC", flush=True)
    killed = False
    try:
        while datetime.now(UTC) < end:
            time.sleep(1)
            half = minutes[len(minutes) // 2] + timedelta(seconds=30)
            if args.kill_leader and not killed and datetime.now(UTC) > half:
                with app.app_context():
                    leader = int(redis_client().get(redis_key("clock", "leader")) or 0)
                for name, proc in list(procs.items()):
                    if name.startswith("clock") and proc.pid == leader:
                        kill(proc)
                        procs[name + "-restarted"] = start(name + "-restarted", env, logs)
                        print(f"killed the acting clock ({name}, pid {leader})", flush=True)
                killed = True
            for name, proc in procs.items():
                if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                    print(f"{name} exited early; see {logs}/{name}.log")
                    return 1
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                kill(proc)
        double.stop()

    with app.app_context():
        runs = list(
            db.session.execute(
                sa.select(
                    CronAgentRun.id,
                    CronAgentRun.agent_id,
                    CronAgentRun.status,
                    CronAgentRun.started_at,
                    CronAgentRun.completed_at,
                )
            )
        )
        jobs = {}
        conn = redis_client()
        run_ids = [str(run.id) for run in runs]
        for start_at in range(0, len(run_ids), 500):
            for job in Job.fetch_many(run_ids[start_at : start_at + 500], connection=conn):
                if job is not None:
                    jobs[job.id] = job

    def minute_of(ts: datetime) -> datetime:
        return ts.replace(second=0, microsecond=0)

    print()
    print("minute  runs  dup  missed  fire p50/p99 (s)  enqueue p99  pickup p50/p99  runs/s  ok")
    all_fire, all_pickup, rates = [], [], []
    duplicates = missed = 0
    for minute in minutes:
        batch = [run for run in runs if minute_of(run.started_at) == minute]
        per_agent: dict = {}
        for run in batch:
            per_agent[run.agent_id] = per_agent.get(run.agent_id, 0) + 1
        dup = sum(n - 1 for n in per_agent.values() if n > 1)
        miss = len(ids) - len(per_agent)
        duplicates += dup
        missed += miss
        fire = [(run.started_at - minute).total_seconds() for run in batch]
        enq = [
            (jobs[str(run.id)].enqueued_at.replace(tzinfo=UTC) - minute).total_seconds()
            for run in batch
            if str(run.id) in jobs and jobs[str(run.id)].enqueued_at
        ]
        pickup = [
            (jobs[str(run.id)].started_at.replace(tzinfo=UTC) - minute).total_seconds()
            for run in batch
            if str(run.id) in jobs and jobs[str(run.id)].started_at
        ]
        done = [run for run in batch if run.completed_at is not None]
        ok = sum(1 for run in batch if run.status == "success")
        if done:
            span = (
                max(r.completed_at for r in done) - min(r.started_at for r in done)
            ).total_seconds()
            rate = len(done) / span if span > 0 else float("nan")
        else:
            rate = float("nan")
        rates.append(rate)
        all_fire += fire
        all_pickup += pickup
        print(
            f"{minute:%H:%M}  {len(batch):5d} {dup:4d} {miss:7d}   "
            f"{pct(fire, 50):6.3f} / {pct(fire, 99):6.3f}    {pct(enq, 99):6.3f}   "
            f"{pct(pickup, 50):6.2f} / {pct(pickup, 99):6.2f}  {rate:6.1f}  {ok}"
        )
    print()
    print(f"fire delay   p50 {pct(all_fire, 50):.3f} s   p99 {pct(all_fire, 99):.3f} s")
    print(f"pickup delay p50 {pct(all_pickup, 50):.2f} s   p99 {pct(all_pickup, 99):.2f} s")
    valid = [r for r in rates if r == r]
    mean_rate = statistics.mean(valid) if valid else float("nan")
    print(f"runs/s       mean {mean_rate:.1f}")
    print(f"duplicates   {duplicates}  (target 0);  missed fires {missed}")
    return 0 if duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
