"""Helpers for tests that start real Cognova processes: environments, ports, bounded waits.

Every child runs in its own session so a test can signal (and, on failure, kill) the whole
group it forked; every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from cognova.config import ROOT

BIN = Path(sys.executable).parent
FLASK = [sys.executable, "-m", "flask", "--app", "app"]

# Settings of the test process that must not leak into a child started with its own.
_SCRUB = (
    "DATABASE_URL",
    "REDIS_URL",
    "BETTER_AUTH_SECRET",
    "COGNOVA_API_TOKEN",
    "ADMIN_PASSWORD",
    "ADMIN_EMAIL",
    "VAULT_PATH",
    "COGNOVA_INSTANCE_PATH",
    "COGNOVA_REDIS_NAMESPACE",
    "PORT",
    "HOST",
    "XDG_RUNTIME_DIR",
)


def child_env(base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """os.environ (PATH and friends) without Cognova settings, then *base*, then *extra*."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(base or {})
    env.update({k: str(v) for k, v in extra.items()})
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("WEB_CONCURRENCY", "1")
    env.setdefault("COGNOVA_WEB_THREADS", "8")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll *predicate* until it returns something truthy; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A child process in its own session, its output collected in a file."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path):
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def stop(self) -> None:
        """Kill whatever is left of the group (for finally blocks)."""
        if self.popen.poll() is None:
            self.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(10)
        self.signal_group(signal.SIGKILL)  # grandchildren that outlived their parent
        self._out.close()


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    """(status, json or None, response headers) of one request; never raises for HTTP codes."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw, status, hdrs = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, hdrs = error.read(), error.code, error.headers
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    return status, payload, hdrs


def health_ok(base_url: str) -> bool:
    try:
        return http("GET", f"{base_url}/api/health")[0] == 200
    except OSError:
        return False
