"""The Procfile, run as it is by honcho the way platforms run it: web, worker and clock."""

from __future__ import annotations

import signal
import time

import pytest
from rq import Worker

from cognova.config import ROOT
from cognova.extensions import queue, redis_client, redis_key
from tests.jobs.processes import BIN, Proc, alive, child_env, free_port, health_ok, wait_for

pytestmark = pytest.mark.slow


def test_procfile_declares_the_three_processes():
    entries = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert set(entries) == {"web", "worker", "clock"}
    assert entries["web"].split()[0] == "gunicorn"


def test_procfile_runs_under_honcho_and_stops_on_sigterm(app, app_env, tmp_path):
    port = free_port()
    env = child_env(app_env, PORT=port, HOST="127.0.0.1", COGNOVA_CLOCK_TICK="0.5")
    base = f"http://127.0.0.1:{port}"
    honcho = Proc([str(BIN / "honcho"), "start", "-f", "Procfile"], env, tmp_path / "honcho.log")
    try:
        wait_for(lambda: health_ok(base), 90, 0.2, "the web process to answer /api/health")

        def workers():
            with app.app_context():
                return Worker.all(queue=queue("default"))

        assert wait_for(workers, 30, what="an RQ worker to register")

        def leader():
            with app.app_context():
                return redis_client().get(redis_key("clock", "leader"))

        assert wait_for(leader, 30, what="the clock to act")

        children = honcho.descendants()
        assert len(children) >= 3
        started = time.monotonic()
        honcho.popen.send_signal(signal.SIGTERM)  # what a platform sends to stop a dyno
        honcho.wait(30)
        assert time.monotonic() - started < 15, honcho.output()
        wait_for(lambda: not any(alive(p) for p in children), 10, what="every process to stop")
        assert not health_ok(base)
        with app.app_context():
            wait_for(lambda: not Worker.all(queue=queue("default")), 5, what="worker deregistered")
    finally:
        honcho.stop()
