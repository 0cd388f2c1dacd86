"""HTML pages. Each page is a Jinja shell; its data comes from the JSON API it calls."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for

from cognova.security import csrf_token_for, resolve
from cognova.services import auth as auth_service
from cognova.web import agents as agents_pages
from cognova.web import chat as chat_pages
from cognova.web import dashboard as dashboard_pages
from cognova.web import documents as documents_pages
from cognova.web import hooks as hooks_pages
from cognova.web import memories as memories_pages
from cognova.web import projects as projects_pages
from cognova.web import settings as settings_pages
from cognova.web import tasks as tasks_pages
from cognova.web import usage as usage_pages
from cognova.web import view as view_pages

bp = Blueprint("web", __name__)

PUBLIC_PAGES = {"web.login", "web.signup", "static", *view_pages.PUBLIC_ENDPOINTS}

NAV = [
    ("Dashboard", "/", "home"),
    ("Tasks", "/tasks", "check"),
    ("Projects", "/projects", "folder"),
    ("Documents", "/documents", "file"),
    ("Chat", "/chat", "chat"),
    ("Agents", "/agents", "bolt"),
    ("Memories", "/memories", "brain"),
    ("Usage", "/usage", "chart"),
    ("Hooks", "/hooks", "hook"),
    ("Settings", "/settings", "gear"),
]


def safe_redirect_target(target: str | None) -> str:
    """Only same-site paths: never let ?redirect= send a user elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.before_app_request
def require_sign_in():
    if request.path.startswith("/api/") or request.path == "/api":
        return None
    if request.endpoint in PUBLIC_PAGES or request.endpoint is None:
        return None
    if resolve().user is None:
        target = request.full_path.rstrip("?") if request.query_string else request.path
        return redirect(f"/login?redirect={quote(target, safe='/')}")
    return None


@bp.app_context_processor
def layout_context():
    auth = g.get("auth")
    csrf = csrf_token_for(auth.session) if auth is not None and auth.session else ""
    return {
        "nav": NAV,
        "csrf_token": csrf,
        "viewer": auth.user if auth is not None else None,
        "app_version": current_app.config["VERSION"],
    }


def signup_allowed() -> bool:
    return current_app.config["ALLOW_SIGNUP"] or auth_service.user_count() == 0


@bp.get("/login")
def login():
    target = safe_redirect_target(request.args.get("redirect"))
    if resolve().user is not None:
        return redirect(target)
    return render_template("auth/login.html", redirect_to=target, signup_allowed=signup_allowed())


@bp.get("/signup")
def signup():
    if not signup_allowed():
        return redirect(url_for("web.login"))
    return render_template("auth/signup.html")


AREAS: dict[str, str] = {}


def _area_view(slug: str, title: str):
    def view():
        return render_template("_placeholder.html", title=title, active=f"/{slug}")

    view.__name__ = f"area_{slug}"
    return view


# Areas whose pages have not landed yet answer with a friendly placeholder.
for _slug, _title in AREAS.items():
    bp.add_url_rule(f"/{_slug}", f"area_{_slug}", _area_view(_slug, _title))


# Page blueprints of the areas, one module per area (cognova/web/<area>.py).
PAGE_BLUEPRINTS: list[Blueprint] = []
PAGE_BLUEPRINTS.append(agents_pages.bp)
PAGE_BLUEPRINTS.append(chat_pages.bp)
PAGE_BLUEPRINTS.extend([dashboard_pages.bp, tasks_pages.bp, projects_pages.bp])
PAGE_BLUEPRINTS.extend([settings_pages.bp, usage_pages.bp])
PAGE_BLUEPRINTS.extend([documents_pages.bp, view_pages.bp])
PAGE_BLUEPRINTS.extend([memories_pages.bp, hooks_pages.bp])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)
