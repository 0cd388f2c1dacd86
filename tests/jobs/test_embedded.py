"""``make run`` without any server: embedded PostgreSQL and Redis, web + worker + clock, Ctrl-C.

Runs ``python -m flask --app app up`` (the ``make run`` command minus the install) on a fresh
instance folder with no DATABASE_URL/REDIS_URL, three times: the first start generates the admin
password and the auth secret, the second reuses them, the third adopts the servers a killed
supervisor left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import time
from pathlib import Path

import psutil
import pytest
import redis

from tests.jobs.processes import FLASK, Proc, alive, child_env, free_port, http, wait_for

pytestmark = pytest.mark.slow

EMAIL = "owner@example.com"


def _instance_servers(instance: Path) -> list[psutil.Process]:
    """postgres/redis-server processes serving this instance folder."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] in ("postgres", "redis-server") and str(instance) in cmdline:
            found.append(proc)
    with contextlib.suppress(OSError, ValueError, redis.RedisError):
        url = (instance / "redis.url").read_text().strip()
        found.append(psutil.Process(int(redis.Redis.from_url(url).info()["process_id"])))
    return [p for p in found if alive(p)]


def _reap(instance: Path) -> None:
    for proc in _instance_servers(instance):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def _start(env, log: Path) -> Proc:
    return Proc([*FLASK, "up"], env, log)


def _wait_ready(up: Proc, base: str) -> str:
    wait_for(lambda: "Press Ctrl-C" in up.output() or up.popen.poll() is not None, 90, 0.1, "up")
    assert up.popen.poll() is None, up.output()
    assert http("GET", f"{base}/api/health")[0] == 200
    return up.output()


def _ctrl_c(up: Proc, watched: list[psutil.Process]) -> float:
    """SIGINT to the foreground group, as a terminal's Ctrl-C; returns seconds to stop."""
    started = time.monotonic()
    up.signal_group(signal.SIGINT)
    assert up.wait(30) == 0, up.output()
    elapsed = time.monotonic() - started
    wait_for(lambda: not any(alive(p) for p in watched), 10, what="every process to stop")
    return elapsed


def _sign_in(base: str, password: str):
    status, _payload, headers = http(
        "POST", f"{base}/api/auth/sign-in/email", {"email": EMAIL, "password": password}
    )
    return status, headers.get("Set-Cookie", "").split(";")[0]


def test_make_run_with_embedded_servers(tmp_path):
    """First start, Ctrl-C, second start, kill -9, third start (adopts the servers), Ctrl-C."""
    instance = tmp_path / "instance"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = child_env(
        COGNOVA_INSTANCE_PATH=str(instance),
        PORT=port,
        HOST="127.0.0.1",
        ADMIN_EMAIL=EMAIL,
        COGNOVA_CLOCK_TICK="0.5",
        HOME=str(tmp_path / "home"),
    )
    assert "DATABASE_URL" not in env and "REDIS_URL" not in env and "ADMIN_PASSWORD" not in env
    up = _start(env, tmp_path / "up-1.log")
    try:
        out = _wait_ready(up, base)
        assert f"Cognova is running at {base}" in out
        assert f"email:    {EMAIL}" in out
        password = re.search(r"password: (\S+)", out).group(1)
        assert len(password) >= 16

        # The three processes are there and use the embedded servers.
        url = (instance / "redis.url").read_text().strip()
        assert url.startswith("unix://")
        embedded_redis = redis.Redis.from_url(url)
        wait_for(lambda: embedded_redis.get("cognova:clock:leader"), 30, what="the clock")
        wait_for(lambda: embedded_redis.smembers("rq:workers"), 30, what="a worker")
        servers = _instance_servers(instance)
        assert {p.name() for p in servers} == {"postgres", "redis-server"}
        assert (instance / "postgres" / "PG_VERSION").exists()

        # The generated secret is private to the owner; the printed password works.
        secret_file = instance / "auth-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text()
        status, cookie = _sign_in(base, password)
        assert status == 200 and cookie

        elapsed = _ctrl_c(up, up.descendants() + servers)
        assert elapsed < 10, up.output()
        assert "cognova: stopped" in up.output()
        assert _instance_servers(instance) == []
        assert not (instance / "redis.url").exists()
    finally:
        up.stop()
        _reap(instance)

    # Second start: same secret, no new password printed, the old session cookie still valid.
    # Then the supervisor is killed outright (kill -9): the kernel stops its children
    # (PR_SET_PDEATHSIG) but the servers, being daemons, stay up for the next start to adopt.
    up = _start(env, tmp_path / "up-2.log")
    try:
        out = _wait_ready(up, base)
        assert "password: " not in out
        assert secret_file.read_text() == secret
        status, payload, _ = http("GET", f"{base}/api/auth/get-session", headers={"Cookie": cookie})
        assert status == 200 and payload["data"]["user"]["email"] == EMAIL
        assert _sign_in(base, password)[0] == 200

        children = up.descendants()
        os.kill(up.pid, signal.SIGKILL)
        up.wait(10)
        wait_for(lambda: not any(alive(p) for p in children), 15, what="orphans to stop")
        assert _instance_servers(instance), "the embedded servers outlive a killed supervisor"
    finally:
        up.stop()

    # Third start adopts the running servers, and stops them on Ctrl-C like its own.
    up = _start(env, tmp_path / "up-3.log")
    try:
        _wait_ready(up, base)
        assert _sign_in(base, password)[0] == 200
        _ctrl_c(up, up.descendants() + _instance_servers(instance))
        assert _instance_servers(instance) == []
    finally:
        up.stop()
        _reap(instance)
