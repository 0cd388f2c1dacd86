"""The encrypted secrets store (API.md §14).

Values are sealed with AES-256-GCM under a key derived from BETTER_AUTH_SECRET exactly as
existing Cognova databases do it (§14.3), so rows written by either implementation open in the
other. Plaintext values leave this module only through ``reveal`` and ``get_value``; nothing
here logs or puts a value in an error message.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from flask import current_app

from cognova.extensions import db
from cognova.models.system import Secret
from cognova.services.errors import Conflict, NotFound, field_error
from cognova.services.notifications import notify

SALT = b"second-brain-secrets-salt"
IV_BYTES = 16
TAG_BYTES = 16
UNDECRYPTABLE = "secret cannot be decrypted with the current BETTER_AUTH_SECRET"

# the same rule as cognova.schemas.secrets.KEY_PATTERN (not imported: it would cycle)
_KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Undecryptable(Conflict):
    def __init__(self):
        super().__init__(UNDECRYPTABLE)


# ------------------------------------------------------------------ crypto


@functools.lru_cache(maxsize=8)
def derive_key(auth_secret: str) -> bytes:
    """scrypt(N=16384, r=8, p=1) takes ~50 ms, so each secret's key is derived once."""
    kdf = Scrypt(salt=SALT, length=32, n=16384, r=8, p=1)
    return kdf.derive(auth_secret.encode("utf-8"))


def encrypt(value: str, auth_secret: str) -> tuple[str, str]:
    """Returns (encrypted_value, iv): ``hex(ciphertext):hex(tag)`` and a fresh 16-byte hex IV."""
    iv = os.urandom(IV_BYTES)
    sealed = AESGCM(derive_key(auth_secret)).encrypt(iv, value.encode("utf-8"), None)
    ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    return f"{ciphertext.hex()}:{tag.hex()}", iv.hex()


def decrypt(encrypted_value: str, iv: str, auth_secret: str) -> str:
    """The plaintext, or ``Undecryptable`` for a wrong key, tampering or a malformed row."""
    try:
        ciphertext_hex, tag_hex = encrypted_value.split(":")
        ciphertext, tag, nonce = (
            bytes.fromhex(ciphertext_hex),
            bytes.fromhex(tag_hex),
            bytes.fromhex(iv),
        )
        if len(tag) != TAG_BYTES or not nonce:
            raise ValueError("malformed")
        plain = AESGCM(derive_key(auth_secret)).decrypt(nonce, ciphertext + tag, None)
        return plain.decode("utf-8")
    except (ValueError, InvalidTag, AttributeError, TypeError):
        raise Undecryptable() from None


def _auth_secret() -> str:
    return current_app.config["BETTER_AUTH_SECRET"]


# ------------------------------------------------------------------ store


@dataclass
class Revealed:
    key: str
    value: str
    description: str | None
    updated_at: datetime


def check_key(key: str) -> None:
    """A key from a path: malformed keys are 400, never a lookup (§14.1)."""
    if len(key) > 255 or not _KEY_RE.match(key):
        raise field_error("key", "must match ^[A-Z][A-Z0-9_]*$ and be at most 255 characters")


def _find(key: str) -> Secret | None:
    return db.session.scalar(sa.select(Secret).where(Secret.key == key))


def _get_or_404(key: str) -> Secret:
    check_key(key)
    row = _find(key)
    if row is None:
        raise NotFound("Secret not found")
    return row


def list_secrets() -> list[Secret]:
    return list(db.session.scalars(sa.select(Secret).order_by(Secret.key)))


def create(key: str, value: str, description: str | None, actor: str | None) -> Secret:
    if _find(key) is not None:
        raise Conflict("A secret with this key already exists")
    encrypted, iv = encrypt(value, _auth_secret())
    now = datetime.now(UTC)
    row = Secret(
        id=uuid.uuid4(),
        key=key,
        encrypted_value=encrypted,
        iv=iv,
        description=description,
        created_at=now,
        updated_at=now,
        created_by=actor,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # a concurrent create of the same key won the unique index
        db.session.rollback()
        raise Conflict("A secret with this key already exists") from None
    notify("secret", "create", row.id, row.key)
    return row


def reveal(key: str) -> Revealed:
    row = _get_or_404(key)
    value = decrypt(row.encrypted_value, row.iv, _auth_secret())
    return Revealed(row.key, value, row.description, row.updated_at)


def update(key: str, changes: dict) -> Secret:
    row = _get_or_404(key)
    if "value" in changes:
        row.encrypted_value, row.iv = encrypt(changes["value"], _auth_secret())
    if "description" in changes:
        row.description = changes["description"]
    row.updated_at = datetime.now(UTC)
    notify("secret", "edit", row.id, row.key)
    return row


def delete(key: str) -> None:
    row = _get_or_404(key)
    notify("secret", "delete", row.id, row.key)
    db.session.delete(row)


def get_value(key: str) -> str | None:
    """The plaintext of *key* for other services (e.g. ANTHROPIC_API_KEY), or None when the
    secret is missing or cannot be decrypted with the current BETTER_AUTH_SECRET."""
    row = _find(key)
    if row is None:
        return None
    try:
        return decrypt(row.encrypted_value, row.iv, _auth_secret())
    except Undecryptable:
        return None


def rotate(old_secret: str, new_secret: str) -> int:
    """Re-encrypt every secret from *old_secret* to *new_secret* in one transaction.

    Every row is decrypted before anything is written: one undecryptable row aborts the whole
    rotation with nothing changed. Returns the number of rows re-encrypted; the caller commits.
    """
    rows = list(db.session.scalars(sa.select(Secret).order_by(Secret.key).with_for_update()))
    plain: list[tuple[Secret, str]] = []
    failed: list[str] = []
    for row in rows:
        try:
            plain.append((row, decrypt(row.encrypted_value, row.iv, old_secret)))
        except Undecryptable:
            failed.append(row.key)
    if failed:
        raise Conflict(f"{UNDECRYPTABLE}: {', '.join(failed)}")
    # updated_at is left alone: the values themselves did not change
    for row, value in plain:
        row.encrypted_value, row.iv = encrypt(value, new_secret)
    db.session.flush()
    return len(plain)
