"""Shared set-up of the usage benchmarks: a dedicated database and its environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "cognova_bench_usage"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
API_TOKEN = "bench-api-token-" + "b" * 24


def database_url() -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + BENCH_DB, parts.query, parts.fragment))


def env() -> dict[str, str]:
    instance = Path(os.environ.get("BENCH_INSTANCE", "/tmp/cognova-bench-instance"))
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "COGNOVA_REDIS_NAMESPACE": "cognova-bench",
        "COGNOVA_INSTANCE_PATH": str(instance),
        "VAULT_PATH": str(instance / "vault"),
        "BETTER_AUTH_SECRET": "bench-auth-secret",
        "COGNOVA_API_TOKEN": API_TOKEN,
        "ADMIN_PASSWORD": "bench-password-123",
        "COGNOVA_LOG_LEVEL": "WARNING",
    }


def make_app():
    from cognova import create_app
    from cognova.config import Config

    return create_app(Config(env=env()))
