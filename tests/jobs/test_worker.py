"""The worker process: a job enqueued by the web side runs in a real ``flask worker``."""

from __future__ import annotations

import os

import pytest
from rq.job import Job

from cognova.extensions import redis_client
from cognova.jobs.system import ping
from tests.jobs.processes import FLASK, Proc, child_env

pytestmark = pytest.mark.slow


def test_job_enqueued_by_web_runs_in_a_worker_process(app, app_env, tmp_path):
    # Enqueued the way a request handler does it: inside a request context of the app.
    with app.test_request_context("/api/health"):
        job = ping.enqueue("hello")
        job_id = job.id
        assert job.get_status() == "queued"

    worker = Proc([*FLASK, "worker", "--burst"], child_env(app_env), tmp_path / "worker.log")
    try:
        assert worker.wait(60) == 0, worker.output()
    finally:
        worker.stop()

    with app.app_context():
        done = Job.fetch(job_id, connection=redis_client())
        assert done.get_status() == "finished", worker.output()
        # The job reached the database and Redis: it ran inside the worker's app context.
        assert done.return_value() == {"echo": "hello", "database": True, "redis": True}
        assert done.worker_name  # a worker other than this test process took it
        assert str(os.getpid()) not in done.worker_name


def test_failed_job_is_recorded_and_the_worker_carries_on(app, app_env, tmp_path):
    with app.app_context():
        from cognova.extensions import queue

        bad = queue("default").enqueue_call("cognova.jobs.system.ping", args=(), kwargs={})
        good = ping.enqueue("after")

    worker = Proc([*FLASK, "worker", "--burst"], child_env(app_env), tmp_path / "worker.log")
    try:
        assert worker.wait(60) == 0, worker.output()
    finally:
        worker.stop()

    with app.app_context():
        bad = Job.fetch(bad.id, connection=redis_client())
        good = Job.fetch(good.id, connection=redis_client())
        assert bad.get_status() == "failed"
        assert "TypeError" in bad.latest_result().exc_string
        assert good.get_status() == "finished"


def test_in_process_worker_runs_jobs_in_the_app_context(app, run_jobs):
    with app.app_context():
        job = ping.enqueue("inline")
    run_jobs(["default"])
    with app.app_context():
        assert Job.fetch(job.id, connection=redis_client()).return_value()["database"] is True
