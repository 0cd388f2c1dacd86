"""The single admin: created from ADMIN_EMAIL/ADMIN_PASSWORD/ADMIN_NAME, idempotently."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from cognova.extensions import db
from cognova.models import User
from cognova.services import auth

SEED_LOCK = 0x636F676E6F7662


@dataclass
class SeedResult:
    user: User
    created: bool
    password_reset: bool
    generated_password: str | None


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def seed_admin(
    email: str, name: str, password: str | None, *, reset_password: bool = False
) -> SeedResult:
    """Create the admin, or (with ``reset_password``) give the existing one a new password."""
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SEED_LOCK)))
    email = email.strip().lower()
    user = auth.find_user_by_email(email)
    generated = None
    if user is None:
        if password is None:
            password = generated = generate_password()
        user = auth.create_user(name, email, password)
        db.session.commit()
        return SeedResult(user, True, False, generated)
    if reset_password:
        if password is None:
            password = generated = generate_password()
        auth.set_password(user, password)
        db.session.commit()
        return SeedResult(user, False, True, generated)
    db.session.commit()
    return SeedResult(user, False, False, None)


def seed_from_config(*, only_if_empty: bool, reset_password: bool = False) -> SeedResult | None:
    if only_if_empty:
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SEED_LOCK)))
        if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
            db.session.commit()
            return None
    config = current_app.config
    return seed_admin(
        config["ADMIN_EMAIL"],
        config["ADMIN_NAME"],
        config["ADMIN_PASSWORD"],
        reset_password=reset_password,
    )


def credentials_banner(result: SeedResult) -> str:
    line = "=" * 64
    return (
        f"\n{line}\n  Cognova admin account\n  email:    {result.user.email}\n"
        f"  password: {result.generated_password}\n"
        f"  (shown once; change it under Settings → Account)\n{line}\n"
    )
