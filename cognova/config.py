"""Every setting Cognova reads, taken from the environment once, with its default.

No other module reads ``os.environ``: they ask ``current_app.config`` (or a ``Config``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"
DEFAULT_MODEL = "claude-sonnet-4-6"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def sqlalchemy_url(url: str) -> str:
    """psycopg 3 is the driver; accept the plain URLs platforms hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def read_or_create_secret_file(path: Path, make) -> str:
    """A value generated once into the instance folder (mode 0600) and reused afterwards."""
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


class Config:
    """Settings for one process. Built from a mapping (the environment by default)."""

    def __init__(self, env: dict[str, str] | None = None, **overrides):
        env = dict(os.environ if env is None else env)
        self.env = env
        self.INSTANCE_PATH = Path(env.get("COGNOVA_INSTANCE_PATH") or ROOT / "instance").resolve()
        self.HOST = env.get("HOST") or "127.0.0.1"
        self.PORT = _int(env.get("PORT"), 5000)
        self.DATABASE_URL = env.get("DATABASE_URL") or None
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.REDIS_NAMESPACE = env.get("COGNOVA_REDIS_NAMESPACE") or "cognova"
        self.VAULT_PATH = Path(env.get("VAULT_PATH") or self.INSTANCE_PATH / "vault")
        self.BETTER_AUTH_SECRET = env.get("BETTER_AUTH_SECRET") or None
        self.BASE_URL = (
            env.get("COGNOVA_BASE_URL")
            or env.get("BETTER_AUTH_URL")
            or f"http://{self.HOST}:{self.PORT}"
        ).rstrip("/")
        self.TRUSTED_ORIGINS = [
            o.strip().rstrip("/")
            for o in (env.get("COGNOVA_TRUSTED_ORIGINS") or "").split(",")
            if o.strip()
        ]
        self.API_TOKEN = env.get("COGNOVA_API_TOKEN") or None
        self.ALLOW_SIGNUP = _bool(env.get("COGNOVA_ALLOW_SIGNUP"))
        self.ADMIN_EMAIL = env.get("ADMIN_EMAIL") or "admin@example.com"
        self.ADMIN_PASSWORD = env.get("ADMIN_PASSWORD") or None
        self.ADMIN_NAME = env.get("ADMIN_NAME") or "Admin"
        self.ANTHROPIC_API_KEY = env.get("ANTHROPIC_API_KEY") or None
        self.ANTHROPIC_BASE_URL = env.get("ANTHROPIC_BASE_URL") or None
        self.MODEL = env.get("COGNOVA_MODEL") or DEFAULT_MODEL
        # Claude: per-model prices override (JSON), SDK retries/timeout, loop and tool limits.
        self.MODEL_PRICES = env.get("COGNOVA_MODEL_PRICES") or None
        self.TITLE_MODEL = env.get("COGNOVA_TITLE_MODEL") or "claude-haiku-4-5"
        self.ANTHROPIC_MAX_RETRIES = _int(env.get("ANTHROPIC_MAX_RETRIES"), 2)
        self.ANTHROPIC_TIMEOUT = float(env.get("ANTHROPIC_TIMEOUT") or 600)
        self.CHAT_MAX_TOKENS = _int(env.get("COGNOVA_CHAT_MAX_TOKENS"), 8192)
        self.CHAT_MAX_TURNS = _int(env.get("COGNOVA_CHAT_MAX_TURNS"), 20)
        self.TOOL_RESULT_MAX_CHARS = _int(env.get("COGNOVA_TOOL_RESULT_MAX_CHARS"), 20000)
        self.CLAUDE_PROJECTS_DIR = Path(
            env.get("CLAUDE_PROJECTS_DIR") or Path.home() / ".claude" / "projects"
        )
        self.TIMEZONE = env.get("COGNOVA_TIMEZONE") or "UTC"
        self.MAX_BODY_BYTES = _int(env.get("COGNOVA_MAX_BODY_BYTES"), 10 * 1024 * 1024)
        self.TRUST_PROXY = _bool(env.get("COGNOVA_TRUST_PROXY"))
        self.MAX_FILE_BYTES = _int(env.get("COGNOVA_MAX_FILE_BYTES"), 10 * 1024 * 1024)
        self.VAULT_WATCH = _bool(env.get("COGNOVA_VAULT_WATCH"))
        self.AUTO_MIGRATE = _bool(env.get("COGNOVA_AUTO_MIGRATE"), default=True)
        # One second: cron fires at whole minutes and agents should start within a second or two.
        self.CLOCK_TICK_SECONDS = float(env.get("COGNOVA_CLOCK_TICK") or 1)
        # An agent run that has not finished after this many seconds ends as an error.
        self.AGENT_RUN_TIMEOUT = float(env.get("COGNOVA_AGENT_RUN_TIMEOUT") or 1800)
        # Comment lines on idle SSE streams: they keep proxies from closing the connection
        # and are how a server notices a client that went away.
        self.SSE_KEEPALIVE_SECONDS = float(env.get("COGNOVA_SSE_KEEPALIVE") or 15)
        self.LOG_LEVEL = env.get("COGNOVA_LOG_LEVEL") or "INFO"
        # A pooled database connection unused for this many seconds is pinged before it is
        # handed out (a restart meanwhile is then invisible); busier ones are not.
        self.DB_PING_IDLE_SECONDS = float(env.get("COGNOVA_DB_PING_IDLE") or 5)
        for key, value in overrides.items():
            setattr(self, key, value)

    @property
    def secure_cookies(self) -> bool:
        return self.BASE_URL.startswith("https://")

    def resolve_generated(self) -> None:
        """Fill in the values that are generated once into the instance folder."""
        if not self.BETTER_AUTH_SECRET:
            self.BETTER_AUTH_SECRET = read_or_create_secret_file(
                self.INSTANCE_PATH / "auth-secret", lambda: secrets.token_hex(32)
            )
        if not self.API_TOKEN:
            self.API_TOKEN = read_or_create_secret_file(
                self.INSTANCE_PATH / "api-token", lambda: secrets.token_hex(32)
            )

    def flask_mapping(self) -> dict:
        """The mapping loaded into ``app.config``."""
        mapping = {k: v for k, v in vars(self).items() if k.isupper()}
        mapping.update(
            SECRET_KEY=self.BETTER_AUTH_SECRET,
            SECURE_COOKIES=self.secure_cookies,
            SQLALCHEMY_DATABASE_URI=sqlalchemy_url(self.DATABASE_URL or ""),
            SQLALCHEMY_ENGINE_OPTIONS={
                # Last returned, first reused: under light load the same few connections
                # stay busy (no ping), the others age and are checked when next needed.
                "pool_use_lifo": True,
                "pool_size": 10,
                "max_overflow": 20,
                "connect_args": {"connect_timeout": 5},
            },
            MAX_CONTENT_LENGTH=None,
            JSON_SORT_KEYS=False,
            VERSION=VERSION,
        )
        return mapping
