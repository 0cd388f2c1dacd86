"""Extension objects, built once at import and bound to the app in ``create_app``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis as redis_lib
import sqlalchemy as sa
from flask import Flask, current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from rq import Queue

from cognova.models.base import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()


class RateLimits:
    """The moving-window rate limiter on Redis, for the checks that ask it (the sign-in
    throttle). No route declares a limit, so nothing runs before or after every request."""

    def __init__(self) -> None:
        self.limiter: MovingWindowRateLimiter | None = None

    def init_app(self, app: Flask) -> None:
        uri = app.config.setdefault(
            "RATELIMIT_STORAGE_URI", limits_storage_uri(app.config["REDIS_URL"])
        )
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))


limiter = RateLimits()

QUEUE_NAMES = ("default", "chat", "agents")


def limits_storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip only when it sat unused in the pool for
    *idle_seconds* or more (a restart of the database while the app was quiet): a busy app
    sends no ping before its statements. A failed ping drops every connection pooled before it
    and the checkout goes on with a new one, so the request does not notice."""
    dialect = engine.dialect

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["cognova.checked_in"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        checked_in = record.info.pop("cognova.checked_in", None)
        if checked_in is None or time.monotonic() - checked_in < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise sa.exc.InvalidatePoolError(f"idle connection failed its ping: {exc}") from exc


@contextmanager
def reading() -> Iterator[sa.Connection]:
    """A connection for a read that needs no transaction of its own.

    When the session has not begun a transaction, a pooled connection in autocommit mode,
    returned as the block ends: the read is one round trip instead of BEGIN, the statement and
    ROLLBACK. Otherwise the session's own connection, so the read sees what the session wrote
    and nothing is checked out twice.
    """
    if db.session().get_transaction() is not None:
        yield db.session.connection()
        return
    with db.engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine, app.config["DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(app.config["ROOT"] / "migrations"))
    login_manager.init_app(app)
    limiter.init_app(app)
    app.extensions["cognova.redis"] = redis_lib.Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, health_check_interval=30
    )


def redis_client() -> redis_lib.Redis:
    return current_app.extensions["cognova.redis"]


def redis_key(*parts: str) -> str:
    """A Redis key inside this installation's namespace."""
    return ":".join((current_app.config["REDIS_NAMESPACE"], *parts))


def queue(name: str = "default") -> Queue:
    """An RQ queue in this installation's namespace."""
    return Queue(
        f"{current_app.config['REDIS_NAMESPACE']}.{name}",
        connection=redis_client(),
        default_timeout=600,
    )
