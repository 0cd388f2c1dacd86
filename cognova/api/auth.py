"""Sign-up, sign-in, sessions and the account (API.md §2.6)."""

from __future__ import annotations

import math
import re
import time
from typing import Annotated, Literal

from flask import current_app, g, jsonify, request
from limits import parse as parse_limit
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from cognova.api.errors import ApiError
from cognova.api.spec import ApiBlueprint, ok
from cognova.api.validation import (
    ApiModel,
    Body,
    Text,
    Timestamp,
    json_body,
    require_fields,
    validate,
)
from cognova.extensions import db, limiter
from cognova.security import (
    clear_session_cookie,
    client_ip,
    csrf_token_for,
    origin_verdict,
    resolve,
    set_session_cookie,
)
from cognova.services import auth as auth_service

bp = ApiBlueprint("auth", __name__, tag="Auth")

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SIGN_IN_LIMIT = parse_limit("5 per 15 minutes")


def _email(value: str) -> str:
    value = value.lower()
    if not EMAIL_RE.match(value):
        raise ValueError("must be a valid email address")
    return value


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Name = Text(1, 100)
Image = Annotated[str, StringConstraints(max_length=2048)] | None


class UserOut(ApiModel):
    id: str
    name: str
    email: str
    email_verified: bool
    image: str | None
    created_at: Timestamp
    updated_at: Timestamp


class SessionOut(ApiModel):
    id: str
    user_id: str
    expires_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    ip_address: str | None
    user_agent: str | None
    current: bool = False


class SignedIn(BaseModel):
    user: UserOut
    session: SessionOut
    csrfToken: str


class SessionInfo(BaseModel):
    user: UserOut
    session: SessionOut | None
    csrfToken: str | None
    authMethod: Literal["session", "token"]


class SignUpBody(Body):
    name: Name
    email: Email
    password: Password
    image: Image = None


class SignInBody(Body):
    email: str
    password: str


class UpdateUserBody(Body):
    name: Name = None
    email: Email = None
    image: Image = None


class ChangePasswordBody(Body):
    current_password: str
    new_password: Password
    revoke_other_sessions: bool = True


class RevokeSessionBody(Body):
    id: Annotated[str, Field(min_length=1)]


class Success(BaseModel):
    success: bool


class Revoked(BaseModel):
    success: bool
    revokedSessions: int


def user_json(user) -> dict:
    return UserOut.model_validate(user).model_dump(mode="json", by_alias=True)


def session_json(session, current_id: str | None = None) -> dict:
    out = SessionOut.model_validate(session).model_dump(mode="json", by_alias=True)
    out["current"] = session.id == current_id
    return out


def _signed_in_response(user, session, status: int):
    data = {
        "user": user_json(user),
        "session": session_json(session, session.id),
        "csrfToken": csrf_token_for(session),
    }
    response = ok(data, status)
    set_session_cookie(response, session.token)
    return response


def _check_origin_for_anonymous() -> None:
    if origin_verdict() is False:
        raise ApiError(403, "CSRF check failed")


@bp.endpoint(
    "POST",
    "/auth/sign-up/email",
    summary="Create an account and sign in",
    body=SignUpBody,
    response=SignedIn,
    status=201,
    errors=(403, 409),
    public=True,
    defer_body=True,
)
def sign_up():
    _check_origin_for_anonymous()
    if auth_service.user_count() > 0 and not current_app.config["ALLOW_SIGNUP"]:
        raise ApiError(403, "Sign-up is disabled")
    body = validate(SignUpBody, json_body())
    try:
        user = auth_service.create_user(body.name, body.email, body.password, body.image)
    except auth_service.EmailTaken:
        raise ApiError(409, "An account with this email already exists") from None
    session = auth_service.create_session(user, client_ip(), _user_agent())
    db.session.commit()
    return _signed_in_response(user, session, 201)


def _user_agent() -> str | None:
    return request.headers.get("User-Agent")


def _limit_key(email: str) -> str:
    namespace = current_app.config["REDIS_NAMESPACE"]
    return f"{namespace}:sign-in:{client_ip()}:{email.strip().lower()}"


@bp.endpoint(
    "POST",
    "/auth/sign-in/email",
    summary="Sign in with email and password",
    body=SignInBody,
    response=SignedIn,
    errors=(401, 403, 429),
    public=True,
    defer_body=True,
)
def sign_in():
    _check_origin_for_anonymous()
    try:
        raw = json_body()
    except ApiError:
        raw = None
    email_for_key = raw.get("email") if isinstance(raw, dict) else None
    key = _limit_key(email_for_key if isinstance(email_for_key, str) else "")
    strategy = limiter.limiter
    if not strategy.test(SIGN_IN_LIMIT, key):
        reset_at, _remaining = strategy.get_window_stats(SIGN_IN_LIMIT, key)
        retry = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(429, "Too many failed sign-in attempts", headers={"Retry-After": str(retry)})
    body = validate(SignInBody, json_body())
    user = auth_service.check_credentials(body.email.strip(), body.password)
    if user is None:
        strategy.hit(SIGN_IN_LIMIT, key)
        raise ApiError(401, "Invalid email or password")
    strategy.clear(SIGN_IN_LIMIT, key)
    session = auth_service.create_session(user, client_ip(), _user_agent())
    db.session.commit()
    return _signed_in_response(user, session, 200)


@bp.endpoint("POST", "/auth/sign-out", summary="Sign out", response=Success)
def sign_out():
    auth = resolve()
    response = ok({"success": True})
    if auth.method == "session":
        auth_service.delete_session(auth.session.id)
        db.session.commit()
        clear_session_cookie(response)
        auth.clear_cookie = False
    return response


@bp.endpoint(
    "GET", "/auth/get-session", summary="The current session", response=SessionInfo, public=True
)
def get_session():
    auth = resolve()
    if auth.user is None:
        return jsonify({"data": None})
    if auth.method == "token":
        data = {
            "user": user_json(auth.user),
            "session": None,
            "csrfToken": None,
            "authMethod": "token",
        }
    else:
        data = {
            "user": user_json(auth.user),
            "session": session_json(auth.session, auth.session.id),
            "csrfToken": csrf_token_for(auth.session),
            "authMethod": "session",
        }
    return ok(data)


@bp.endpoint(
    "POST",
    "/auth/update-user",
    summary="Change name, email or avatar",
    body=UpdateUserBody,
    errors=(409,),
)
def update_user(body: UpdateUserBody):
    changes = require_fields(body)
    user = g.auth.user
    try:
        auth_service.update_user(user, changes)
    except auth_service.EmailTaken:
        raise ApiError(409, "An account with this email already exists") from None
    db.session.commit()
    return ok({"user": user_json(user)})


@bp.endpoint(
    "POST",
    "/auth/change-password",
    summary="Change the password",
    body=ChangePasswordBody,
    response=Revoked,
)
def change_password(body: ChangePasswordBody):
    auth = g.auth
    account = auth_service.credential_account(auth.user.id)
    if account is None or not auth_service.verify_password(body.current_password, account.password):
        raise ApiError(400, "Validation failed", {"currentPassword": "is not the current password"})
    auth_service.set_password(auth.user, body.new_password)
    revoked = 0
    if body.revoke_other_sessions:
        keep = auth.session.id if auth.method == "session" else None
        revoked = auth_service.revoke_other_sessions(auth.user.id, keep)
    db.session.commit()
    return ok({"success": True, "revokedSessions": revoked})


@bp.endpoint(
    "GET", "/auth/list-sessions", summary="The user's live sessions", response=[SessionOut]
)
def list_sessions():
    auth = g.auth
    current_id = auth.session.id if auth.session else None
    return ok([session_json(s, current_id) for s in auth_service.list_sessions(auth.user.id)])


@bp.endpoint(
    "POST",
    "/auth/revoke-session",
    summary="Revoke one session",
    body=RevokeSessionBody,
    response=Success,
    errors=(404,),
)
def revoke_session(body: RevokeSessionBody):
    auth = g.auth
    if not auth_service.revoke_session(auth.user.id, body.id):
        raise ApiError(404, "Session not found")
    db.session.commit()
    response = ok({"success": True})
    if auth.session is not None and auth.session.id == body.id:
        clear_session_cookie(response)
    return response


@bp.endpoint(
    "POST", "/auth/revoke-other-sessions", summary="Revoke every other session", response=Revoked
)
def revoke_other_sessions():
    auth = g.auth
    keep = auth.session.id if auth.session else None
    revoked = auth_service.revoke_other_sessions(auth.user.id, keep)
    db.session.commit()
    return ok({"success": True, "revokedSessions": revoked})
