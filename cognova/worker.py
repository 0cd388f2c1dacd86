"""The RQ worker process: runs jobs inside the Flask app context."""

from __future__ import annotations

from flask import Flask
from rq import SimpleWorker

from cognova.extensions import QUEUE_NAMES, db, queue


class AppWorker(SimpleWorker):
    """Runs each job in-process inside the app context and returns the DB session afterwards.

    In-process execution keeps a warm connection pool and Anthropic client between jobs;
    job timeouts are still enforced by RQ's signal-based death penalty.
    """

    app: Flask

    def perform_job(self, job, queue_, execution) -> bool:
        with self.app.app_context():
            try:
                return super().perform_job(job, queue_, execution)
            finally:
                db.session.remove()


def build_worker(app: Flask, names: tuple[str, ...] = QUEUE_NAMES, **kwargs) -> AppWorker:
    with app.app_context():
        queues = [queue(name) for name in names]
        worker = AppWorker(queues, connection=queues[0].connection, **kwargs)
    worker.app = app
    return worker


def run(app: Flask, *, burst: bool = False, names: tuple[str, ...] = QUEUE_NAMES) -> bool:
    from cognova.ai import client
    from cognova.services import watcher

    client.preload()  # so that the first chat or agent job does not wait for the SDK's import

    worker = build_worker(app, names)
    vault_watcher = None if burst else watcher.start(app)  # COGNOVA_VAULT_WATCH=true
    try:
        return worker.work(burst=burst, with_scheduler=False)
    finally:
        if vault_watcher is not None:
            vault_watcher.stop()
