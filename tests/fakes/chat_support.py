"""Test support for Claude features: the API double as a fixture, a worker thread, SSE parsing.

tests/conftest.py loads this module as a plugin, so every test can ask for these fixtures.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from rq.timeouts import TimerDeathPenalty

from tests.fakes.anthropic_double import AnthropicDouble, text

TITLE_REQUEST = "You write titles"


def is_title_request(body: dict) -> bool:
    return TITLE_REQUEST in str(body.get("system") or "")


@pytest.fixture(scope="session")
def double_server():
    server = AnthropicDouble().start()
    yield server
    server.stop()


@pytest.fixture
def double(double_server):
    """The double, emptied, with a rule answering title generation so scripts stay in order."""
    double_server.reset()
    double_server.delay = 0.0
    double_server.when(is_title_request, text("Shopping list\nThe user asked to add milk."))
    return double_server


@pytest.fixture
def ai(app, double):
    """Point the app at the double with a key and no SDK retries (tests opt in to them)."""
    saved = {
        k: app.config.get(k)
        for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MAX_RETRIES")
    }
    app.config.update(
        ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=double.url, ANTHROPIC_MAX_RETRIES=0
    )
    yield double
    app.config.update(saved)


class WorkerThread:
    """A real RQ worker serving the chat and default queues from a thread of the test process.

    RQ's signal-based timeouts and handlers need the main thread, so this worker uses the timer
    death penalty. It blocks on the queues like a real worker (a job starts at once) and returns
    after ``idle`` seconds without one, so ``stop`` is noticed within that time.
    """

    def __init__(self, app, queues=("chat", "default"), idle: int = 1):
        self.app, self.queues, self.idle = app, queues, idle
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rq-test-worker", daemon=True)

    def _worker(self):
        from cognova.worker import build_worker

        worker = build_worker(self.app, tuple(self.queues))
        worker.death_penalty_class = TimerDeathPenalty
        worker._install_signal_handlers = lambda: None
        return worker

    def _run(self):
        while not self.stopping.is_set():
            try:
                self._worker().work(max_idle_time=self.idle, logging_level="WARNING")
            except Exception:  # keep serving; the test sees the effect
                self.stopping.wait(0.1)

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)


@pytest.fixture
def chat_worker(app):
    worker = WorkerThread(app).start()
    yield worker
    worker.stop()


def parse_sse(raw: str) -> list[dict]:
    """Events of an SSE body: [{"id", "event", "data"}], comments skipped."""
    events = []
    for chunk in raw.split("\n\n"):
        event = {"id": None, "event": "message", "data": None}
        seen = False
        for line in chunk.split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            if key == "data":
                event["data"] = json.loads(value)
            elif key in ("id", "event"):
                event[key] = value
            seen = True
        if seen:
            events.append(event)
    return events


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def deltas(events: list[dict]) -> str:
    return "".join(e["data"]["delta"] for e in events if e["event"] == "text_delta")
