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
from cognova.jobs.reminders import deliver_webhook, deliver_webhooks
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

    def __init__(self, statuses=(200,), by_reminder=None):
        self.statuses = list(statuses)
        # reminder id -> its own scripted statuses (the last one repeats), for batches
        self.by_reminder = {k: list(v) for k, v in (by_reminder or {}).items()}
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
                    scripted = hook.by_reminder.get(json.loads(body)["reminder"]["id"])
                    if scripted is not None:
                        seen = sum(
                            r["body"]["reminder"] == json.loads(body)["reminder"]
                            for r in hook.requests
                        )
                        status = scripted[min(seen - 1, len(scripted) - 1)]
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

    def start(statuses=(200,), by_reminder=None):
        server = Hook(statuses, by_reminder)
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


def payload(n: int) -> dict:
    rid = f"11111111-1111-4111-8111-{n:012d}"
    return {**PAYLOAD, "reminder": {**PAYLOAD["reminder"], "id": rid, "message": f"r{n}"}}


def test_a_batch_posts_each_reminder_and_retries_only_the_failed_ones(
    app, ctx, hook_server, fast_retries, run_jobs
):
    batch = [payload(n) for n in range(20)]
    flaky, broken = batch[3]["reminder"]["id"], batch[7]["reminder"]["id"]
    hook = hook_server(by_reminder={flaky: [503, 429, 200], broken: [500]})
    job = deliver_webhooks.enqueue(hook.url, batch)
    run_jobs(["default"])
    posts: dict[str, list[dict]] = {}
    for request in hook.requests:
        posts.setdefault(request["body"]["reminder"]["id"], []).append(request)
    assert set(posts) == {p["reminder"]["id"] for p in batch}
    assert {k: len(v) for k, v in posts.items() if len(v) > 1} == {flaky: 3, broken: 4}
    assert posts[batch[0]["reminder"]["id"]][0]["body"] == batch[0]
    assert posts[flaky][-1]["headers"]["X-Cognova-Event"] == "reminder.fired"
    gaps = [b["at"] - a["at"] for a, b in zip(posts[broken], posts[broken][1:], strict=False)]
    assert [g >= d * 0.9 for g, d in zip(gaps, FAST, strict=True)] == [True] * 3
    # the one that never succeeded is visible; the job ends failed and names it
    failures = webhooks.failures()
    assert [f["reminder_id"] for f in failures] == [broken]
    assert failures[0]["attempts"] == 4 and failures[0]["history"] == ["500"] * 4
    assert job.id in failed_job_ids(app)
    job.refresh()
    assert broken in (job.latest_result().exc_string or "")


def test_a_batch_that_all_succeeds_finishes(ctx, hook_server, fast_retries, run_jobs):
    hook = hook_server()
    job = deliver_webhooks.enqueue(hook.url, [payload(n) for n in range(5)])
    run_jobs(["default"])
    assert len(hook.requests) == 5
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == {"delivered": 5, "attempts": 5}
    assert webhooks.failures() == []


def test_default_schedule_is_1_5_25_seconds(ctx):
    assert webhooks.retry_delays() == (1.0, 5.0, 25.0)
    assert webhooks.TIMEOUT_SECONDS == 10.0
