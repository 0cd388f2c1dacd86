"""Extension objects, built once at import and bound to the app in ``create_app``."""

from __future__ import annotations

import redis as redis_lib
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


def init_app(app: Flask) -> None:
    db.init_app(app)
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
