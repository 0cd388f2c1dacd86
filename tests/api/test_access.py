"""Every route that is not public answers 401 without credentials (API.md §2.3)."""

from __future__ import annotations

import re

import pytest

from cognova.api.spec import PUBLIC_ATTR
from cognova.web import PUBLIC_PAGES

PUBLIC_API = {
    ("POST", "/api/auth/sign-up/email"),
    ("POST", "/api/auth/sign-in/email"),
    ("GET", "/api/auth/get-session"),
    ("GET", "/api/health"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/documents/<id>/public"),
    ("POST", "/api/hooks/claude"),
}
SAMPLE_UUID = "0b6f3c52-95a4-4c3f-9a39-2d4b1c7f0e11"


def concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", SAMPLE_UUID, rule)


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def test_every_protected_api_route_answers_401_without_credentials(app, client):
    checked, failures = 0, []
    for method, rule in routes(app):
        if not rule.rule.startswith("/api"):
            continue
        public = getattr(app.view_functions[rule.endpoint], PUBLIC_ATTR, False)
        assert public == ((method, rule.rule) in PUBLIC_API), f"{method} {rule.rule} publicity"
        if public:
            continue
        response = client.open(concrete(rule.rule), method=method, json={})
        checked += 1
        if response.status_code != 401 or response.json.get("message") != "Authentication required":
            failures.append(f"{method} {rule.rule} -> {response.status_code}")
    assert failures == []
    assert checked >= 6


def test_every_page_redirects_strangers_to_the_login(app, client):
    failures = []
    for method, rule in routes(app):
        if rule.rule.startswith("/api") or rule.endpoint in PUBLIC_PAGES or method != "GET":
            continue
        response = client.get(concrete(rule.rule))
        if response.status_code != 302 or "/login?redirect=" not in response.location:
            failures.append(f"{rule.rule} -> {response.status_code}")
    assert failures == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope"),
        ("DELETE", "/api/tasks/whatever/else"),
        ("GET", "/api/tasks/"),
        ("POST", "/api"),
    ],
)
def test_unknown_api_paths_answer_401_to_strangers(client, method, path):
    assert client.open(path, method=method).status_code == 401


def test_a_public_path_with_a_wrong_method_is_405_not_401(client):
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_login_redirect_keeps_the_path_and_query(client):
    response = client.get("/tasks?selected=abc")
    assert response.status_code == 302
    assert response.location == "/login?redirect=/tasks%3Fselected%3Dabc"


def test_login_never_redirects_off_site(auth):
    response = auth.client.get("/login?redirect=https://evil.example/")
    assert response.status_code == 302 and response.location == "/"
    response = auth.client.get("/login?redirect=//evil.example/")
    assert response.location == "/"
