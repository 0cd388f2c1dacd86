"""Fixtures: a real PostgreSQL database and Redis namespace per test run, emptied between tests.

``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` name servers to use (CI sets them); without them the
embedded servers start in a temporary folder. Each run creates its own database and drops it at
the end, and uses its own Redis key namespace, so runs never touch each other's data.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis as redis_lib
import sqlalchemy as sa

from cognova import boot, create_app
from cognova.config import Config
from cognova.extensions import db
from cognova.services import auth as auth_service

# The Anthropic API double and a chat worker thread as fixtures (double, ai, chat_worker).
pytest_plugins = ("tests.fakes.chat_support",)

ADMIN_EMAIL = "ada@example.com"
ADMIN_PASSWORD = "correct horse battery"
API_TOKEN = "test-api-token-" + "x" * 20
AUTH_SECRET = "test-auth-secret"

TABLES = (
    '"user", session, account, verification, projects, tasks, reminders, documents, '
    "conversations, conversation_messages, cron_agents, cron_agent_runs, secrets, hook_events, "
    "memory_chunks, token_usage, user_settings"
)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="cognova-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server_urls(workdir):
    """(postgres server URL, redis URL) — external when configured, embedded otherwise."""
    pg_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    from cognova import embedded

    if not pg_url:
        embedded_url = embedded.start_postgres(workdir / "embedded")
        pg_url = _with_database(embedded_url, "postgres")
    if not redis_url:
        redis_url = embedded.start_redis(workdir / "embedded")
    yield pg_url, redis_url
    embedded.stop_all()


@pytest.fixture(scope="session")
def database_url(server_urls):
    server, _ = server_urls
    name = f"cognova_test_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(server, name)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def app_env(database_url, server_urls, workdir):
    """The environment a Cognova process of this test run is started with."""
    namespace = f"cognova-test-{secrets.token_hex(4)}"
    instance = workdir / "instance"
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": server_urls[1],
        "COGNOVA_REDIS_NAMESPACE": namespace,
        "COGNOVA_INSTANCE_PATH": str(instance),
        "VAULT_PATH": str(workdir / "vault"),
        "BETTER_AUTH_SECRET": AUTH_SECRET,
        "COGNOVA_API_TOKEN": API_TOKEN,
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "COGNOVA_LOG_LEVEL": "WARNING",
        "HOME": str(workdir / "home"),
    }


@pytest.fixture(scope="session")
def app(app_env):
    application = create_app(Config(env=app_env))
    application.config["TESTING"] = True
    with application.app_context():
        boot.migrate_database()
    application.config["VAULT_PATH"].mkdir(parents=True, exist_ok=True)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request, app):
    """Each test starts with empty tables, an empty Redis namespace and an empty vault."""
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {TABLES} CASCADE"))
        auth_service.forget_token_user()
        client = redis_lib.Redis.from_url(app.config["REDIS_URL"])
        ns = app.config["REDIS_NAMESPACE"]
        for pattern in (f"{ns}*", f"rq:*{ns}*", f"LIMITS:*{ns}*"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                client.delete(*keys)
    vault = app.config["VAULT_PATH"]
    if vault.exists():
        shutil.rmtree(vault)
    vault.mkdir(parents=True)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def user(app):
    """The admin, created as first start creates it."""
    from cognova.services import admin

    with app.app_context():
        result = admin.seed_admin(ADMIN_EMAIL, "Ada Lovelace", ADMIN_PASSWORD)
        db.session.remove()
        return result.user


class SignedInClient:
    """A test client with a session cookie that sends the CSRF header on mutations."""

    def __init__(self, client, csrf: str, user_data: dict, session_data: dict):
        self.client = client
        self.csrf = csrf
        self.user = user_data
        self.session = session_data

    def _call(self, method, path, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("GET", path, **kw)

    def post(self, path, **kw):
        return self._call("POST", path, **kw)

    def put(self, path, **kw):
        return self._call("PUT", path, **kw)

    def patch(self, path, **kw):
        return self._call("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self._call("DELETE", path, **kw)


def sign_in(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD) -> SignedInClient:
    response = client.post("/api/auth/sign-in/email", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    data = response.json["data"]
    return SignedInClient(client, data["csrfToken"], data["user"], data["session"])


@pytest.fixture
def auth(app, user) -> SignedInClient:
    return sign_in(app.test_client())


class TokenClient:
    """A test client that authenticates every request with the API token."""

    def __init__(self, client):
        self.client = client

    def open(self, path, method="GET", **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("X-API-Token", API_TOKEN)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.open(path, "GET", **kw)

    def post(self, path, **kw):
        return self.open(path, "POST", **kw)

    def put(self, path, **kw):
        return self.open(path, "PUT", **kw)

    def patch(self, path, **kw):
        return self.open(path, "PATCH", **kw)

    def delete(self, path, **kw):
        return self.open(path, "DELETE", **kw)


@pytest.fixture
def api(app, user) -> TokenClient:
    return TokenClient(app.test_client())


# ------------------------------------------------------------------ workers, servers, browsers


@pytest.fixture
def run_jobs(app):
    """Run every queued job with a real RQ worker (burst mode), in this process."""
    from cognova.worker import build_worker

    def run(queues=None):
        from cognova.extensions import QUEUE_NAMES

        worker = build_worker(app, tuple(queues or QUEUE_NAMES))
        worker.work(burst=True, with_scheduler=False)
        return worker

    return run


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served over real HTTP on a free port (for browsers and SSE clients)."""
    server = LiveServer(app).start()
    app.config["BASE_URL"] = server.url
    yield server
    server.stop()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "browser" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (it cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) opened on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def screenshot(tab, name: str) -> Path:
    """Save a screenshot under tests/browser/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def browser_sign_in(tab, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, target="/"):
    tab.goto(f"/login?redirect={target}")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(lambda url: "/login" not in url)
