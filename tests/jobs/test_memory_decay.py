"""The daily decay (API.md §12.7): idle decay, expiry of weak memories, purge of long-expired
ones, once per UTC day however often it runs."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cognova.extensions import db
from cognova.models import MemoryChunk
from cognova.services import memory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def add(
    content, *, relevance=1.0, created_days_ago=0, accessed_days_ago=None, expires_in_days=None
):
    row = MemoryChunk(
        id=uuid.uuid4(),
        chunk_type="fact",
        content=content,
        relevance_score=relevance,
        access_count=0,
        created_at=NOW - timedelta(days=created_days_ago),
        last_accessed_at=None
        if accessed_days_ago is None
        else NOW - timedelta(days=accessed_days_ago),
        expires_at=None if expires_in_days is None else NOW + timedelta(days=expires_in_days),
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def state(ident):
    db.session.expire_all()
    row = db.session.get(MemoryChunk, ident)
    return None if row is None else (round(row.relevance_score, 4), row.expires_at)


def test_decay_runs_once_per_utc_day(ctx):
    idle = add("idle", created_days_ago=40)
    assert memory.decay(NOW) == {"decayed": 1, "expiring": 0, "purged": 0}
    assert state(idle) == (0.95, None)
    assert memory.decay(NOW) is None
    assert memory.decay(NOW + timedelta(hours=11, minutes=59)) is None
    assert state(idle) == (0.95, None)
    assert memory.decay(NOW + timedelta(days=1)) is not None
    assert state(idle) == (round(0.95 * 0.95, 4), None)


def test_idle_is_measured_from_the_last_access(ctx):
    fresh = add("created long ago, read yesterday", created_days_ago=100, accessed_days_ago=1)
    new = add("new", created_days_ago=29)
    stale = add("read 31 days ago", created_days_ago=100, accessed_days_ago=31)
    memory.decay(NOW)
    assert state(fresh) == (1.0, None)
    assert state(new) == (1.0, None)
    assert state(stale) == (0.95, None)


def test_weak_memories_get_an_expiry_and_expired_ones_stop_decaying(ctx):
    weak = add("weak", relevance=0.105, created_days_ago=60)
    already = add("already expiring", relevance=0.05, expires_in_days=5)
    expired = add("expired", relevance=0.5, created_days_ago=60, expires_in_days=-1)
    result = memory.decay(NOW)
    assert result == {"decayed": 1, "expiring": 1, "purged": 0}
    relevance, expires = state(weak)
    assert relevance == pytest.approx(0.09975, abs=1e-4)
    assert expires == NOW + timedelta(days=30)
    assert state(already) == (0.05, NOW + timedelta(days=5))  # expiry kept as it was
    assert state(expired) == (0.5, NOW - timedelta(days=1))  # expired: no decay


def test_long_expired_memories_are_purged(ctx):
    old = add("expired 31 days ago", expires_in_days=-31)
    recent = add("expired 29 days ago", expires_in_days=-29)
    assert memory.decay(NOW)["purged"] == 1
    assert state(old) is None
    assert state(recent) is not None


def test_relevance_floors_at_zero(ctx):
    zero = add("zero", relevance=0.0, created_days_ago=90, expires_in_days=10)
    db.session.execute(sa.update(MemoryChunk).values(expires_at=None))
    db.session.commit()
    memory.decay(NOW)
    relevance, _ = state(zero)
    assert relevance == 0.0


def test_a_second_process_holding_the_lock_makes_this_run_skip(app, ctx):
    add("idle", created_days_ago=40)
    with db.engine.connect() as other:
        assert other.execute(sa.select(sa.func.pg_try_advisory_lock(memory.DECAY_LOCK))).scalar()
        try:
            assert memory.decay(NOW) is None
        finally:
            other.execute(sa.select(sa.func.pg_advisory_unlock(memory.DECAY_LOCK)))
            other.commit()
    assert memory.decay(NOW) is not None


def test_decay_is_a_clock_duty(app):
    from cognova.clock import DUTIES, DUTY_MODULES, load_duties

    assert "cognova.jobs.memory" in DUTY_MODULES
    load_duties()
    assert "memory-decay" in DUTIES and "memory-idle-conversations" in DUTIES
    with app.app_context():
        ident = add("idle", created_days_ago=45)
        DUTIES["memory-decay"].run()
        DUTIES["memory-decay"].run()
        db.session.expire_all()
        assert db.session.get(MemoryChunk, ident).relevance_score == pytest.approx(0.95)


def test_every_step_works_in_batches_of_short_transactions(ctx, monkeypatch):
    monkeypatch.setattr(memory, "DECAY_BATCH", 3)
    idle = [add(f"idle {n}", created_days_ago=40) for n in range(8)]
    weak = [add(f"weak {n}", relevance=0.05, created_days_ago=5) for n in range(4)]
    old = [add(f"expired {n}", expires_in_days=-40) for n in range(7)]
    commits = []
    real_commit = db.session.commit
    monkeypatch.setattr(db.session, "commit", lambda: (commits.append(1), real_commit()))
    assert memory.decay(NOW) == {"decayed": 8, "expiring": 4, "purged": 7}
    assert len(commits) >= 3 + 2 + 3  # ceil(8/3), ceil(4/3), ceil(7/3) batches at least
    assert {state(i) for i in idle} == {(0.95, None)}
    assert {state(i)[1] for i in weak} == {NOW + timedelta(days=30)}
    assert [state(i) for i in old] == [None] * 7


def test_a_run_cut_short_resumes_the_same_day_without_decaying_anything_twice(ctx, monkeypatch):
    monkeypatch.setattr(memory, "DECAY_BATCH", 2)
    idle = [add(f"idle {n}", created_days_ago=40) for n in range(5)]
    real_commit = db.session.commit
    calls = []

    def failing_second_commit():
        calls.append(1)
        if len(calls) == 2:
            db.session.rollback()
            raise RuntimeError("the process died")
        real_commit()

    monkeypatch.setattr(db.session, "commit", failing_second_commit)
    with pytest.raises(RuntimeError):
        memory.decay(NOW)
    monkeypatch.setattr(db.session, "commit", real_commit)
    done = sorted(idle, key=lambda i: i.int)
    scores = {i: state(i)[0] for i in idle}
    # the first batch (lowest ids) committed; the second was lost, nothing after it ran
    assert [scores[i] for i in done] == [0.95, 0.95, 1.0, 1.0, 1.0]
    # the lock was released and the day is not marked done: a second run finishes the day
    assert memory.decay(NOW + timedelta(minutes=5)) == {"decayed": 1, "expiring": 0, "purged": 0}
    assert [state(i)[0] for i in done] == [0.95, 0.95, 1.0, 1.0, 0.95]
    assert memory.decay(NOW + timedelta(hours=1)) is None
    # the next day starts over from the first id
    assert memory.decay(NOW + timedelta(days=1))["decayed"] == 5


def test_memories_in_use_are_skipped_not_waited_for(app, ctx):
    busy = add("being counted by a search", created_days_ago=40)
    idle = add("idle", created_days_ago=40)
    result = {}

    def run():
        with app.app_context():
            result.update(memory.decay(NOW))
            db.session.remove()

    with db.engine.connect() as other:
        other.execute(
            sa.select(MemoryChunk.id).where(MemoryChunk.id == busy).with_for_update()
        ).all()
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(10)
        waited = worker.is_alive()
        other.rollback()
        worker.join()
    assert not waited, "the decay waited for a row another transaction holds"
    assert result == {"decayed": 1, "expiring": 0, "purged": 0}
    assert state(idle) == (0.95, None)
    assert state(busy) == (1.0, None)
