"""Liveness of the parts Cognova depends on (API.md §3)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from cognova.extensions import db, redis_client


def database_ok() -> bool:
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 2000"))
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False


def redis_ok() -> bool:
    try:
        return bool(redis_client().ping())
    except Exception:
        return False


def vault_ok() -> bool:
    root = current_app.config["VAULT_PATH"]
    return root.is_dir() and os.access(root, os.R_OK | os.W_OK | os.X_OK)


def report() -> dict:
    status = {"database": database_ok(), "redis": redis_ok(), "vault": vault_ok()}
    healthy = all(status.values())
    return {
        "status": "ok" if healthy else ("degraded" if status["database"] else "down"),
        **status,
        "version": current_app.config["VERSION"],
        "time": datetime.now(UTC),
    }
