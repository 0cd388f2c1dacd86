"""Webhook delivery of fired reminders (API.md §6.1), through a real RQ worker."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq.registry import FailedJobRegistry

from cognova.extensions import queue
from cognova.jobs.reminders import deliver_webhook
from cognova.services import webhooks

FAST = (0.05, 0.1, 0.2)
PAYLOAD = {
    "event": "reminder.fired",
    "firedAt": "2026-02-18T09:00:02.120Z",
    "reminder": {
        "id": "11111111-1111-4111-8111-111111111111",
        "message": "Call the bank",
        "remindAt": "2026-02-18T09:00:00.000Z",
        "taskId": None,
    },
    "task": None,
}


class Hook:
    """A local webhook receiver answering with scripted statuses (the last one repeats)."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.lock:
                    hook.requests.append(
                        {"headers": dict(self.headers), "body": json.loads(body), "at": time.time()}
                    )
                    index = len(hook.requests) - 1
                    status = hook.statuses[min(index, len(hook.statuses) - 1)]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_server():
    servers = []

    def start(statuses=(200,)):
        server = Hook(statuses)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def fast_retries(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS", FAST)


def failed_job_ids(app):
    with app.app_context():
        return FailedJobRegistry(queue=queue("default")).get_job_ids()


def test_retries_until_success(app, ctx, hook_server, fast_retries, run_jobs):
    hook = hook_server([500, 503, 200])
    job = deliver_webhook.enqueue(hook.url, PAYLOAD)
    run_jobs(["default"])
    assert len(hook.requests) == 3
    first = hook.requests[0]
    assert first["body"] == PAYLOAD
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["X-Cognova-Event"] == "reminder.fired"
    gaps = [b["at"] - a["at"] for a, b in zip(hook.requests, hook.requests[1:], strict=False)]
    assert gaps[0] >= FAST[0] * 0.9 and gaps[1] >= FAST[1] * 0.9
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == {"status": 200, "attempts": 3}
    assert webhooks.failures() == []


def test_429_is_retried(ctx, hook_server, fast_retries, run_jobs):
    hook = hook_server([429, 200])
    deliver_webhook.enqueue(hook.url, PAYLOAD)
    run_jobs(["default"])
    assert len(hook.requests) == 2
    assert webhooks.failures() == []


def test_permanent_failure_is_visible(app, ctx, hook_server, fast_retries, run_jobs, caplog):
    hook = hook_server([502])
    caplog.set_level(logging.WARNING, logger="cognova.services.webhooks")
    job = deliver_webhook.enqueue(hook.url, PAYLOAD)
    run_jobs(["default"])
    assert len(hook.requests) == 4  # the first try and three retries
    failures = webhooks.failures()
    assert len(failures) == 1
    entry = failures[0]
    assert entry["reminder_id"] == PAYLOAD["reminder"]["id"]
    assert entry["url"] == hook.url and entry["attempts"] == 4 and entry["status"] == 502
    assert entry["history"] == ["502"] * 4 and entry["failedAt"].endswith("Z")
    assert job.id in failed_job_ids(app)
    assert any("webhook delivery failed" in r.getMessage() for r in caplog.records)


def test_client_errors_are_final(app, ctx, hook_server, fast_retries, run_jobs):
    hook = hook_server([404])
    job = deliver_webhook.enqueue(hook.url, PAYLOAD)
    run_jobs(["default"])
    assert len(hook.requests) == 1
    assert webhooks.failures()[0]["status"] == 404
    assert job.id in failed_job_ids(app)


def test_network_errors_are_retried(app, ctx, fast_retries, run_jobs):
    probe = Hook()
    dead_url = probe.url
    probe.close()  # nothing listens there any more: connection refused
    job = deliver_webhook.enqueue(dead_url, PAYLOAD)
    run_jobs(["default"])
    entry = webhooks.failures()[0]
    assert entry["attempts"] == 4 and entry["status"] is None
    assert "ConnectError" in entry["error"]
    assert job.id in failed_job_ids(app)


def test_default_schedule_is_1_5_25_seconds(ctx):
    assert webhooks.retry_delays() == (1.0, 5.0, 25.0)
    assert webhooks.TIMEOUT_SECONDS == 10.0
