"""Hourly clean-up duties of the clock."""

from __future__ import annotations

from cognova.clock import Duty, register
from cognova.extensions import db
from cognova.services import auth


def purge_sessions() -> int:
    removed = auth.purge_expired_sessions()
    db.session.commit()
    return removed


register(Duty("purge-expired-sessions", 3600, purge_sessions))
