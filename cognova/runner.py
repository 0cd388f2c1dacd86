"""``make run``: web, worker and clock under one supervisor, stopped together on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from flask import Flask

from cognova import boot, embedded
from cognova.config import ROOT


def _announce(app: Flask) -> None:
    config = app.config
    print(f"\n  Cognova is running at {config['BASE_URL']}", flush=True)
    print(f"  Admin: {config['ADMIN_EMAIL']}", flush=True)
    if config["ADMIN_PASSWORD"]:
        print("  Password: the ADMIN_PASSWORD you set", flush=True)
    else:
        print(
            "  Password: printed above on first start "
            "(new one: flask --app app seed-admin --reset-password)",
            flush=True,
        )
    print("  Press Ctrl-C to stop.\n", flush=True)


def run_all(app: Flask, *, workers: int = 1) -> int:
    boot.prepare(app)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=app.config["REDIS_URL"],
        BETTER_AUTH_SECRET=app.config["BETTER_AUTH_SECRET"],
        COGNOVA_API_TOKEN=app.config["API_TOKEN"],
        COGNOVA_INSTANCE_PATH=str(app.config["INSTANCE_PATH"]),
        HOST=app.config["HOST"],
        PORT=str(app.config["PORT"]),
        COGNOVA_AUTO_MIGRATE="false",
        PYTHONUNBUFFERED="1",
    )
    bin_dir = os.path.dirname(sys.executable)
    commands = [
        ["web", [os.path.join(bin_dir, "gunicorn"), "--config", "gunicorn.conf.py", "app:app"]]
    ]
    commands += [
        [f"worker.{i + 1}", [sys.executable, "-m", "flask", "--app", "app", "worker"]]
        for i in range(workers)
    ]
    commands.append(["clock", [sys.executable, "-m", "flask", "--app", "app", "clock"]])
    children = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True) for _, cmd in commands
    ]
    stopping = False

    def stop(*_args):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    _announce(app)
    code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(
                        f"cognova: a process exited with {child.returncode}; stopping", flush=True
                    )
                    stopping, code = True, 1
                    break
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        from cognova.extensions import db

        with app.app_context():
            db.engine.dispose()
        embedded.stop_all()
        print("cognova: stopped", flush=True)
    return code
