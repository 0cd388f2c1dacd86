"""``make run``: web, worker and clock under one supervisor, stopped together on Ctrl-C.

The supervisor owns the embedded servers (when no URLs are configured) and hands their URLs to
the three children through the environment. Each child runs in its own session so a terminal's
Ctrl-C reaches only the supervisor, which then stops the children in order and within a bound:
SIGTERM, a few seconds' grace, SIGKILL. A second Ctrl-C skips the grace.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from flask import Flask

from cognova import boot, embedded
from cognova.config import ROOT

GRACE_SECONDS = 6.0  # a running job or an open SSE stream gets this long to finish
READY_TIMEOUT = 60.0


def _die_with_parent() -> None:
    """Linux: have the kernel SIGTERM a child whose supervisor is killed outright."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _child_env(app: Flask) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=app.config["REDIS_URL"],
        BETTER_AUTH_SECRET=app.config["BETTER_AUTH_SECRET"],
        COGNOVA_API_TOKEN=app.config["API_TOKEN"],
        COGNOVA_INSTANCE_PATH=str(app.config["INSTANCE_PATH"]),
        VAULT_PATH=str(app.config["VAULT_PATH"]),
        HOST=app.config["HOST"],
        PORT=str(app.config["PORT"]),
        # The supervisor has migrated and seeded already.
        COGNOVA_AUTO_MIGRATE="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def _commands(workers: int) -> list[tuple[str, list[str]]]:
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    commands = [("web", [gunicorn, "--config", "gunicorn.conf.py", "app:app"])]
    commands += [(f"worker.{i + 1}", [*flask, "worker"]) for i in range(workers)]
    commands.append(("clock", [*flask, "clock"]))
    return commands


def _health_url(app: Flask) -> str:
    host = app.config["HOST"]
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{app.config['PORT']}/api/health"


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answers; a 503 still means the web process is up
    except (OSError, ValueError):
        return False


def _announce(app: Flask) -> None:
    config = app.config
    lines = [
        "",
        f"  Cognova is running at {config['BASE_URL']}",
        f"  Admin: {config['ADMIN_EMAIL']}",
    ]
    if config["ADMIN_PASSWORD"]:
        lines.append("  Password: the ADMIN_PASSWORD you set")
    else:
        lines.append(
            "  Password: printed above on first start "
            "(new one: flask --app app seed-admin --reset-password)"
        )
    lines += ["  Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)


class Supervisor:
    def __init__(self, app: Flask, workers: int = 1):
        self.app = app
        self.workers = workers
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stop_requests = 0

    def request_stop(self, *_args) -> None:
        self.stop_requests += 1
        if self.stop_requests == 1:
            print("\ncognova: stopping (Ctrl-C again to force)", flush=True)
        else:
            self._signal_all(signal.SIGKILL)

    def start(self, names: set[str] | None = None) -> None:
        """Start the commands named in *names* (all by default)."""
        env = _child_env(self.app)
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        for name, cmd in _commands(self.workers):
            if names is not None and name.split(".")[0] not in names:
                continue
            child = subprocess.Popen(
                cmd, cwd=ROOT, env=env, start_new_session=True, preexec_fn=preexec
            )
            self.children.append((name, child))

    def exited(self) -> tuple[str, int] | None:
        for name, child in self.children:
            if child.poll() is not None:
                return name, child.returncode
        return None

    def _signal_all(self, sig: int) -> None:
        for _, child in self.children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, sig)  # the child and anything it forked (gunicorn)

    def stop_children(self) -> None:
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and self.stop_requests < 2:
            if all(child.poll() is not None for _, child in self.children):
                break
            time.sleep(0.05)
        for name, child in self.children:
            if child.poll() is None:
                print(f"cognova: {name} did not stop in time; killing it", flush=True)
        self._signal_all(signal.SIGKILL)
        for _, child in self.children:
            child.wait()

    def wait_until_serving(self) -> bool:
        url = _health_url(self.app)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not self.stop_requests:
            if self.exited():
                return False
            if _serving(url):
                return True
            time.sleep(0.1)
        return False


def run_all(app: Flask, *, workers: int = 1) -> int:
    """Start everything, block until Ctrl-C/SIGTERM or a child's death, stop everything."""
    supervisor = Supervisor(app, workers)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, supervisor.request_stop)
    code = 0
    try:
        boot.prepare(app)
        gc.freeze()  # long-lived start-up objects: skip them in collections, including at exit
        # The web process first: on a small machine the three start-ups compete for the CPU,
        # and the page is what the person at the terminal waits for. Jobs queued meanwhile wait.
        supervisor.start({"web"})
        serving = supervisor.wait_until_serving()
        if not supervisor.stop_requests and not supervisor.exited():
            supervisor.start({"worker", "clock"})
        if serving:
            _announce(app)
        while not supervisor.stop_requests:
            gone = supervisor.exited()
            if gone:
                print(f"cognova: {gone[0]} exited with {gone[1]}; stopping the others", flush=True)
                code = 1
                break
            time.sleep(0.2)
    finally:
        # Signals during the shutdown only shorten it.
        supervisor.stop_children()
        from cognova.extensions import db

        with app.app_context():
            db.engine.dispose()
        embedded.stop_all()
        print("cognova: stopped", flush=True)
    return code
