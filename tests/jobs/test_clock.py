"""The clock: of two clock processes exactly one acts; when it dies the other takes over."""

from __future__ import annotations

import signal
import time

import pytest

from cognova.clock import Clock, Duty
from cognova.extensions import redis_client, redis_key
from tests.jobs.processes import FLASK, Proc, child_env, wait_for

pytestmark = pytest.mark.slow

TICK = 0.3


def _leader(app) -> int | None:
    with app.app_context():
        value = redis_client().get(redis_key("clock", "leader"))
    return int(value) if value else None


def _acted(app) -> dict[int, int]:
    """Ticks each clock process acted, as the heartbeat duty counts them."""
    with app.app_context():
        counts = redis_client().hgetall(redis_key("clock", "acted"))
    return {int(pid): int(n) for pid, n in counts.items()}


def test_two_clocks_one_acts_and_the_other_takes_over(app, app_env, tmp_path):
    env = child_env(app_env, COGNOVA_CLOCK_TICK=TICK)
    first = Proc([*FLASK, "clock"], env, tmp_path / "clock-1.log")
    second = Proc([*FLASK, "clock"], env, tmp_path / "clock-2.log")
    clocks = {first.pid: first, second.pid: second}
    try:
        leader = wait_for(lambda: _leader(app), 60, what="a clock to act")
        assert leader in clocks
        follower = next(pid for pid in clocks if pid != leader)

        # Both are up and ticking; for a couple of seconds only the leader acts.
        time.sleep(2.5)
        assert clocks[follower].popen.poll() is None, clocks[follower].output()
        acted = _acted(app)
        assert set(acted) == {leader}, acted
        assert acted[leader] >= 4  # it acts every tick, not once
        assert _leader(app) == leader

        # The leader dies without any chance to clean up; its lock dies with its connection.
        clocks[leader].signal_group(signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: _leader(app) == follower, 10, 0.05, "the other clock to take over")
        assert time.monotonic() - killed_at < 5
        before = _acted(app)
        time.sleep(1)
        after = _acted(app)
        assert after[follower] > before[follower]
        assert after[leader] == before[leader]  # the dead one never acts again
    finally:
        for proc in clocks.values():
            proc.stop()


def test_clock_stops_promptly_on_sigterm(app, app_env, tmp_path):
    clock = Proc([*FLASK, "clock"], child_env(app_env), tmp_path / "clock.log")
    try:
        wait_for(lambda: _leader(app) == clock.pid, 60, what="the clock to act")
        started = time.monotonic()
        clock.signal_group(signal.SIGTERM)
        assert clock.wait(10) == 0, clock.output()
        assert time.monotonic() - started < 5
    finally:
        clock.stop()


def test_step_runs_due_duties_and_keeps_going_after_a_failure(app, monkeypatch):
    from cognova import clock as clock_module

    calls = []

    def boom():
        raise RuntimeError("duty failed")

    monkeypatch.setattr(
        clock_module,
        "DUTIES",
        {
            "boom": Duty("boom", 0, boom),
            "count": Duty("count", 3600, lambda: calls.append(1)),
        },
    )
    tick = Clock(app, tick=1)
    try:
        assert tick.step() == ["count"]  # the failing duty is logged, the next still runs
        assert tick.step() == []  # "count" is not due again for an hour
        assert calls == [1]
    finally:
        with app.app_context():
            tick._drop_lock_conn()


def test_only_one_in_process_clock_holds_the_lock(app):
    first, second = Clock(app, tick=1), Clock(app, tick=1)
    try:
        with app.app_context():
            assert first.try_lead() is True
            assert second.try_lead() is False
            assert first.try_lead() is True  # still held
            first._drop_lock_conn()
            assert second.try_lead() is True  # released for real, not parked in the pool
    finally:
        with app.app_context():
            first._drop_lock_conn()
            second._drop_lock_conn()
