"""What a process does once before serving: bring the schema up to date and make the admin.

Every process (web, worker, clock, CLI) may start at the same moment, so the work happens under
a PostgreSQL advisory lock and is a no-op when there is nothing to do.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, current_app
from flask_migrate import stamp, upgrade

from cognova.extensions import db
from cognova.services import admin

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x636F676E6F7661  # "cognova"
SCHEMA_REVISION = "0001_schema"


def migrate_database() -> str:
    """Apply pending migrations; adopt a database made by the TypeScript version first.

    Returns what happened: "created", "adopted", "upgraded" or "current".
    """
    directory = str(current_app.config["ROOT"] / "migrations")
    with db.engine.connect() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK)))
        conn.commit()
        try:
            inspector = sa.inspect(conn)
            versioned = inspector.has_table("alembic_version")
            existing = inspector.has_table("user") and inspector.has_table("tasks")
            before = None
            if versioned:
                before = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            conn.commit()
            outcome = "current"
            if not versioned and existing:
                log.info("adopting an existing Cognova database (stamping %s)", SCHEMA_REVISION)
                stamp(directory=directory, revision=SCHEMA_REVISION)
                outcome = "adopted"
            elif not versioned:
                outcome = "created"
            upgrade(directory=directory)
            after = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            conn.commit()
            if outcome == "current" and after != before:
                outcome = "upgraded"
            return outcome
        finally:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK)))
            conn.commit()


def prepare(app: Flask, *, announce=print) -> None:
    """Migrate (when enabled) and seed the admin if the user table is empty."""
    with app.app_context():
        if app.config["AUTO_MIGRATE"]:
            migrate_database()
        result = admin.seed_from_config(only_if_empty=True)
        if result is not None and result.generated_password:
            announce(admin.credentials_banner(result))
        app.config["VAULT_PATH"].mkdir(parents=True, exist_ok=True)
        from cognova.services import vault_setup

        vault_setup.ensure_welcome_note(app.config["VAULT_PATH"])
