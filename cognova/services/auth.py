"""Users, credentials and sessions, compatible with BetterAuth's tables (API.md §2).

Nothing here knows about Flask requests: callers pass the IP, user agent and actor.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from cognova.extensions import db
from cognova.models import Account, Session, User

SESSION_LIFETIME = timedelta(days=7)
SESSION_REFRESH_AFTER = timedelta(hours=1 * 24)
ALPHANUMERIC = string.ascii_letters + string.digits
SCRYPT = {"n": 16384, "r": 16, "p": 1, "dklen": 64, "maxmem": 64 * 1024 * 1024}


def now() -> datetime:
    return datetime.now(UTC)


def new_id(length: int = 32) -> str:
    """Text ids and session tokens: random alphanumerics, as BetterAuth makes them."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


# ------------------------------------------------------------------ passwords


def _derive(password: str, salt_hex: str) -> bytes:
    normalised = unicodedata.normalize("NFKC", password).encode()
    return hashlib.scrypt(normalised, salt=salt_hex.encode(), **SCRYPT)


def hash_password(password: str) -> str:
    salt_hex = secrets.token_bytes(16).hex()
    return f"{salt_hex}:{_derive(password, salt_hex).hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or ":" not in stored:
        return False
    salt_hex, key_hex = stored.split(":", 1)
    try:
        expected = bytes.fromhex(key_hex)
    except ValueError:
        return False
    return hmac.compare_digest(_derive(password, salt_hex), expected)


_DUMMY_HASH = None


def burn_password_check(password: str) -> None:
    """Spend the same time as a real check, so unknown emails are not revealed by timing."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not a real password")
    verify_password(password, _DUMMY_HASH)


# ------------------------------------------------------------------ users


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.lower()))


def _earliest(column) -> sa.Select:
    """The user API-token requests act as: the earliest created (API.md §2.2)."""
    return sa.select(column).order_by(User.created_at, User.id).limit(1)


def token_user() -> User | None:
    return db.session.scalar(_earliest(User))


TOKEN_USER_TTL = 60.0
_TOKEN_USER_KEY = "cognova.token_user"


def token_user_id() -> str | None:
    """The id of ``token_user()``, remembered by this process for ``TOKEN_USER_TTL`` seconds.

    The earliest user stays the earliest (users are never deleted, and later ones sort after
    it), so nothing written through the app can make the remembered id wrong, and "no user
    yet" is never remembered. The expiry bounds how long a row removed by hand keeps being
    trusted; ``forget_token_user`` drops the id at once (``Auth.user`` calls it when the row
    is gone).
    """
    held = current_app.extensions.get(_TOKEN_USER_KEY)
    if held is not None and held[1] > time.monotonic():
        return held[0]
    user_id = db.session.scalar(_earliest(User.id))
    if user_id is not None:
        current_app.extensions[_TOKEN_USER_KEY] = (user_id, time.monotonic() + TOKEN_USER_TTL)
    return user_id


def forget_token_user() -> None:
    current_app.extensions.pop(_TOKEN_USER_KEY, None)


def credential_account(user_id: str) -> Account | None:
    return db.session.scalar(
        sa.select(Account).where(Account.user_id == user_id, Account.provider_id == "credential")
    )


class EmailTaken(Exception):
    pass


def create_user(name: str, email: str, password: str, image: str | None = None) -> User:
    email = email.strip().lower()
    if find_user_by_email(email):
        raise EmailTaken(email)
    stamp = now()
    user = User(
        id=new_id(),
        name=name,
        email=email,
        email_verified=False,
        image=image,
        created_at=stamp,
        updated_at=stamp,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        Account(
            id=new_id(),
            user_id=user.id,
            account_id=user.id,
            provider_id="credential",
            password=hash_password(password),
            created_at=stamp,
            updated_at=stamp,
        )
    )
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    account = credential_account(user.id)
    stamp = now()
    if account is None:
        db.session.add(
            Account(
                id=new_id(),
                user_id=user.id,
                account_id=user.id,
                provider_id="credential",
                password=hash_password(password),
                created_at=stamp,
                updated_at=stamp,
            )
        )
    else:
        account.password = hash_password(password)
        account.updated_at = stamp
    db.session.flush()


def check_credentials(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    account = credential_account(user.id) if user else None
    if account is None:
        burn_password_check(password)
        return None
    return user if verify_password(password, account.password) else None


def update_user(user: User, changes: dict) -> User:
    if "email" in changes:
        email = changes["email"]
        other = find_user_by_email(email)
        if other is not None and other.id != user.id:
            raise EmailTaken(email)
        user.email = email
    for key in ("name", "image"):
        if key in changes:
            setattr(user, key, changes[key])
    user.updated_at = now()
    db.session.flush()
    return user


# ------------------------------------------------------------------ sessions


def create_session(user: User, ip: str | None, user_agent: str | None) -> Session:
    stamp = now()
    session = Session(
        id=new_id(),
        user_id=user.id,
        token=new_id(),
        expires_at=stamp + SESSION_LIFETIME,
        ip_address=ip,
        user_agent=(user_agent or None) and user_agent[:1000],
        created_at=stamp,
        updated_at=stamp,
    )
    db.session.add(session)
    db.session.flush()
    return session


@dataclass
class SessionLookup:
    session: Session
    user: User
    refreshed: bool


def session_for_token(token: str) -> SessionLookup | None:
    """The live session behind a cookie token, refreshed when it is a day old (§2.1)."""
    row = db.session.execute(
        sa.select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.token == token, Session.expires_at > sa.func.now())
    ).first()
    if row is None:
        return None
    session, user = row
    refreshed = False
    stamp = now()
    if stamp - session.updated_at >= SESSION_REFRESH_AFTER:
        session.expires_at = stamp + SESSION_LIFETIME
        session.updated_at = stamp
        db.session.commit()
        refreshed = True
    return SessionLookup(session, user, refreshed)


def delete_session(session_id: str) -> None:
    db.session.execute(sa.delete(Session).where(Session.id == session_id))


def list_sessions(user_id: str) -> list[Session]:
    return list(
        db.session.scalars(
            sa.select(Session)
            .where(Session.user_id == user_id, Session.expires_at > sa.func.now())
            .order_by(Session.created_at.desc(), Session.id)
        )
    )


def revoke_session(user_id: str, session_id: str) -> bool:
    result = db.session.execute(
        sa.delete(Session).where(Session.id == session_id, Session.user_id == user_id)
    )
    return result.rowcount > 0


def revoke_other_sessions(user_id: str, keep_session_id: str | None) -> int:
    stmt = sa.delete(Session).where(Session.user_id == user_id)
    if keep_session_id:
        stmt = stmt.where(Session.id != keep_session_id)
    return db.session.execute(stmt).rowcount


def purge_expired_sessions() -> int:
    return db.session.execute(
        sa.delete(Session).where(Session.expires_at <= sa.func.now())
    ).rowcount


# ------------------------------------------------------------------ tokens


def csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{session_token}".encode(), hashlib.sha256).hexdigest()


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
