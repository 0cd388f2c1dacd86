"""BetterAuth's tables: user, session, account, verification."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cognova.models.base import NOW, Base, now_column


class User(Base):
    __tablename__ = "user"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str] = mapped_column(unique=True)
    email_verified: Mapped[bool] = mapped_column(server_default=sa.false(), default=False)
    image: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()

    # Flask-Login protocol: a loaded user is always an authenticated one.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.id


class Session(Base):
    __tablename__ = "session"
    __table_args__ = (sa.Index("ix_session_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[datetime]
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (sa.Index("ix_account_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    account_id: Mapped[str]
    provider_id: Mapped[str]
    access_token: Mapped[str | None]
    refresh_token: Mapped[str | None]
    access_token_expires_at: Mapped[datetime | None]
    refresh_token_expires_at: Mapped[datetime | None]
    scope: Mapped[str | None]
    id_token: Mapped[str | None]
    password: Mapped[str | None]
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class Verification(Base):
    __tablename__ = "verification"

    id: Mapped[str] = mapped_column(primary_key=True)
    identifier: Mapped[str]
    value: Mapped[str]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=NOW, default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=NOW, default=sa.func.now())
