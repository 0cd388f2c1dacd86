"""The scheduler loop. Only the clock holding the PostgreSQL advisory lock acts.

Periodic duties are declared as data (``Duty``): name, interval, function. Later features
register theirs with ``register``. A clock that loses its database connection loses the lock
with it, and another clock takes over.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from cognova.extensions import db, redis_client, redis_key

log = logging.getLogger(__name__)

CLOCK_LOCK = 0x636F676E6F7663


@dataclass(frozen=True)
class Duty:
    name: str
    every: float  # seconds
    run: Callable[[], object]


DUTIES: dict[str, Duty] = {}


def register(duty: Duty) -> Duty:
    DUTIES[duty.name] = duty
    return duty


def _heartbeat() -> None:
    """Record that a clock is acting: which process holds the lock, and how often it acted.

    ``clock:leader`` names the acting process; ``clock:acted`` counts ticks per process, so
    anyone can check that two clocks never both acted.
    """
    client = redis_client()
    pid = str(os.getpid())
    acted = redis_key("clock", "acted")
    with client.pipeline() as pipe:
        pipe.set(redis_key("clock", "leader"), pid, ex=60)
        pipe.hincrby(acted, pid, 1)
        pipe.expire(acted, 3600)
        pipe.execute()


register(Duty("heartbeat", 0, _heartbeat))  # every tick


class Clock:
    def __init__(self, app: Flask, tick: float | None = None):
        self.app = app
        self.tick = tick if tick is not None else app.config["CLOCK_TICK_SECONDS"]
        self.last_run: dict[str, float] = {}
        self.stopping = False
        self.lock_conn = None

    def try_lead(self) -> bool:
        """Hold the advisory lock on a dedicated connection for as long as it lives."""
        if self.lock_conn is not None:
            try:
                self.lock_conn.execute(sa.text("SELECT 1"))
                self.lock_conn.commit()  # never sit idle in a transaction
                return True
            except sa.exc.DBAPIError:
                self._drop_lock_conn()
        try:
            conn = db.engine.connect()
            got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(CLOCK_LOCK))).scalar()
            conn.commit()
        except sa.exc.DBAPIError:
            log.warning("clock: database unavailable")
            return False
        if got:
            self.lock_conn = conn
            log.info("clock: acting (lock held)")
            return True
        conn.close()
        return False

    def _drop_lock_conn(self) -> None:
        """Close the lock's connection for real: a pooled one would keep the lock held."""
        if self.lock_conn is not None:
            try:
                self.lock_conn.invalidate()
                self.lock_conn.close()
            except Exception:
                log.debug("closing the lock connection failed", exc_info=True)
            self.lock_conn = None

    def run_due(self) -> list[str]:
        ran = []
        now = time.monotonic()
        for duty in list(DUTIES.values()):
            if now - self.last_run.get(duty.name, -1e18) < duty.every:
                continue
            self.last_run[duty.name] = now
            try:
                duty.run()
                ran.append(duty.name)
            except Exception:
                log.exception("clock duty %s failed", duty.name)
                db.session.rollback()
            finally:
                db.session.remove()
        return ran

    def step(self) -> list[str]:
        with self.app.app_context():
            if not self.try_lead():
                return []
            return self.run_due()

    def stop(self, *_args) -> None:
        self.stopping = True

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("clock: started (tick %.1fs)", self.tick)
        while not self.stopping:
            started = time.monotonic()
            try:
                self.step()
            except Exception:  # Redis or the database away: try again next tick
                log.exception("clock: tick failed")
            end = started + self.tick
            # Sleep in short slices so a stop request is honoured promptly.
            while not self.stopping and (left := end - time.monotonic()) > 0:
                time.sleep(min(0.2, left))
        with self.app.app_context():
            self._drop_lock_conn()
        log.info("clock: stopped")


DUTY_MODULES = (
    "cognova.services.housekeeping",
    "cognova.jobs.reminders",
    "cognova.jobs.documents",
    "cognova.services.chat",
    "cognova.services.agent_schedule",
    "cognova.jobs.memory",
)


def load_duties() -> None:
    """Import the modules that register periodic duties."""
    import importlib

    for name in DUTY_MODULES:
        importlib.import_module(name)
