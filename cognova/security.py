"""Who is asking: session cookies, API tokens, CSRF and the request-size gate (API.md §1.9, §2).

Every request passes ``guard`` before routing is acted on, so an unknown ``/api`` path answers
401 to strangers and 404 only to callers who are signed in. Flask-Login's ``current_user`` is
loaded from the same resolution.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask.sessions import SessionInterface
from flask_login import current_user
from werkzeug.exceptions import MethodNotAllowed, NotFound

from cognova.api.errors import ApiError
from cognova.api.spec import PUBLIC_ATTR
from cognova.api.validation import body_limit
from cognova.extensions import db, login_manager
from cognova.models import Session, User
from cognova.services import auth as auth_service

COOKIE_NAME = "cognova.session_token"
COOKIE_MAX_AGE = 7 * 24 * 3600
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Auth:
    method: str | None = None  # "session" | "token"
    session: Session | None = None
    token_header: bool = False
    token_error: str | None = None
    clear_cookie: bool = False
    refresh_cookie: bool = False
    # Token requests know only the user's id until something asks for ``user``: most token
    # traffic (hook events) never needs the row, so it is read from PostgreSQL on demand.
    user_id: str | None = None
    _user: User | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def user(self) -> User | None:
        if self._user is None and self.user_id is not None:
            self._user = db.session.get(User, self.user_id)
            if self._user is None:  # removed since its id was remembered: look again
                auth_service.forget_token_user()
                self._user = auth_service.token_user()
                if self._user is None:
                    raise ApiError(401, "No user exists yet")
                self.user_id = self._user.id
        return self._user

    def sign_in(self, user: User, method: str) -> None:
        self._user, self.user_id, self.method = user, user.id, method


# ------------------------------------------------------------------ cookies


def _sign(token: str) -> str:
    secret = current_app.config["BETTER_AUTH_SECRET"].encode()
    digest = hmac.new(secret, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_value(token: str) -> str:
    return f"{token}.{_sign(token)}"


def token_from_cookie(value: str) -> str | None:
    token, dot, signature = value.partition(".")
    if not token:
        return None
    if dot and not hmac.compare_digest(signature.encode(), _sign(token).encode()):
        return None
    return token


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        cookie_value(token),
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SECURE_COOKIES"],
    )


def clear_session_cookie(response: Response) -> None:
    response.set_cookie(
        COOKIE_NAME,
        "",
        max_age=0,
        expires=0,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SECURE_COOKIES"],
    )


# ------------------------------------------------------------------ resolution


def _token_header() -> str | None:
    if "X-API-Token" in request.headers:
        return request.headers["X-API-Token"].strip()
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def resolve() -> Auth:
    """Authenticate the current request once; later calls reuse the answer."""
    if "auth" in g:
        return g.auth
    auth = Auth()
    g.auth = auth
    token = _token_header()
    if token is not None:
        auth.token_header = True
        if auth_service.tokens_equal(token, current_app.config["API_TOKEN"]):
            user_id = auth_service.token_user_id()
            if user_id is None:
                auth.token_error = "No user exists yet"
            else:
                auth.user_id, auth.method = user_id, "token"
        return auth
    raw = request.cookies.get(COOKIE_NAME)
    if raw:
        session_token = token_from_cookie(raw)
        found = auth_service.session_for_token(session_token) if session_token else None
        if found is None:
            auth.clear_cookie = True
        else:
            auth.sign_in(found.user, "session")
            auth.session = found.session
            auth.refresh_cookie = found.refreshed
    return auth


def client_ip() -> str | None:
    if current_app.config["TRUST_PROXY"]:
        forwarded = request.headers.get("X-Forwarded-For", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.remote_addr


def csrf_token_for(session: Session) -> str:
    return auth_service.csrf_token(current_app.config["BETTER_AUTH_SECRET"], session.token)


# ------------------------------------------------------------------ guard


def is_public() -> bool:
    """Whether the matched route (or, for a wrong method, the path) is public."""
    if request.url_rule is not None:
        view = current_app.view_functions.get(request.url_rule.endpoint)
        return bool(getattr(view, PUBLIC_ATTR, False))
    exc = request.routing_exception
    if isinstance(exc, MethodNotAllowed):
        adapter = current_app.url_map.bind_to_environ(request.environ)
        for method in exc.valid_methods or ():
            try:
                endpoint, _ = adapter.match(method=method)
            except (NotFound, MethodNotAllowed):
                continue
            return bool(getattr(current_app.view_functions.get(endpoint), PUBLIC_ATTR, False))
    return False


def trusted_origins() -> set[str]:
    origins = {_origin(current_app.config["BASE_URL"])}
    origins.update(_origin(o) for o in current_app.config["TRUSTED_ORIGINS"])
    origins.add(f"{request.scheme}://{request.host}")
    origins.discard(None)
    return origins


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def origin_verdict() -> bool | None:
    """True/False when Origin (or else Referer) is present and trusted/untrusted; None if absent."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin != "null" and origin.rstrip("/") in trusted_origins()
    referer = request.headers.get("Referer")
    if referer:
        return _origin(referer) in trusted_origins()
    return None


def check_csrf(auth: Auth) -> None:
    if request.method not in MUTATING or auth.method != "session":
        return
    header = request.headers.get("X-CSRF-Token")
    if header and auth_service.tokens_equal(header, csrf_token_for(auth.session)):
        return
    if origin_verdict():
        return
    raise ApiError(403, "CSRF check failed")


def guard():
    if request.content_length is not None and request.content_length > body_limit():
        raise ApiError(413, "Request body too large")
    if not (request.path == "/api" or request.path.startswith("/api/")):
        return None
    if is_public():
        return None
    auth = resolve()
    if not auth.signed_in:
        raise ApiError(401, auth.token_error or "Authentication required")
    check_csrf(auth)
    return None


def after(response: Response) -> Response:
    auth: Auth | None = g.get("auth")
    if auth is None or auth.method == "token" or auth.token_header:
        return response
    if auth.clear_cookie and COOKIE_NAME not in _cookies_set(response):
        clear_session_cookie(response)
    elif auth.refresh_cookie and auth.session is not None:
        set_session_cookie(response, auth.session.token)
    return response


def _cookies_set(response: Response) -> set[str]:
    return {h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")}


class NoFlaskSession(SessionInterface):
    """Sign-in sessions are Cognova's own (a row and the signed cookie above); Flask's cookie
    session is never used, so no request pays for opening one (Flask hands views a null
    session instead)."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        return None


def init_app(app: Flask) -> None:
    app.session_interface = NoFlaskSession()

    @login_manager.request_loader
    def load_user_from_request(_request):
        return resolve().user

    app.before_request(guard)
    app.after_request(after)
    app.jinja_env.globals["current_user"] = current_user
