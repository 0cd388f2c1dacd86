"""``extensions.reading``: a read outside any transaction costs one round trip (autocommit);
inside the session's transaction it uses that transaction, seeing its uncommitted rows."""

from __future__ import annotations

import sqlalchemy as sa

from cognova.extensions import db, reading
from cognova.models.tasks import Project

COUNT = sa.text("SELECT count(*) FROM projects WHERE name = 'unsaved'")


def _checked_out() -> int:
    return db.engine.pool.checkedout()


def test_outside_a_transaction_the_read_is_autocommit_and_returns_its_connection(ctx):
    assert db.session().get_transaction() is None
    before = _checked_out()
    with reading() as connection:
        assert connection.connection.driver_connection.autocommit is True
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
        # no transaction is open on the server for this read
        status = connection.execute(sa.text("SELECT now() = statement_timestamp()")).scalar_one()
        assert status is True
        assert _checked_out() == before + 1
    assert _checked_out() == before
    assert db.session().get_transaction() is None


def test_the_pooled_connection_is_transactional_again_afterwards(ctx):
    with reading() as connection:
        dbapi = connection.connection.driver_connection
    db.session.add(Project(name="unsaved", color="#112233"))
    db.session.flush()
    assert db.session.connection().connection.driver_connection is dbapi
    assert dbapi.autocommit is False
    db.session.rollback()
    with reading() as connection:
        assert connection.execute(COUNT).scalar_one() == 0


def test_inside_a_transaction_the_read_sees_the_session_s_own_rows(ctx):
    db.session.add(Project(name="unsaved", color="#112233"))
    db.session.flush()
    before = _checked_out()
    with reading() as connection:
        assert connection is db.session.connection()
        assert connection.execute(COUNT).scalar_one() == 1
    assert _checked_out() == before
    db.session.rollback()
    assert db.session.execute(COUNT).scalar_one() == 0
