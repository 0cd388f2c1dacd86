"""Per-user settings (API.md §16)."""

from __future__ import annotations

from flask import g

from cognova.api.spec import ApiBlueprint, ok
from cognova.api.validation import ApiModel, Body, json_body
from cognova.extensions import db
from cognova.services import settings as settings_service

bp = ApiBlueprint("settings", __name__, tag="Settings")

SETTINGS_SCHEMA = {
    "type": "object",
    "description": "Effective settings: the defaults deep-merged with the stored object.",
    "additionalProperties": True,
}
PATCH_SCHEMA = {
    "type": "object",
    "description": "A JSON Merge Patch (RFC 7396) applied to the stored settings; null deletes.",
    "additionalProperties": True,
}


@bp.endpoint("GET", "/settings", summary="The effective settings", response=SETTINGS_SCHEMA)
def get_settings():
    return ok(settings_service.effective(g.auth.user.id))


@bp.endpoint(
    "PUT",
    "/settings",
    summary="Merge-patch the stored settings",
    body=PATCH_SCHEMA,
    response=SETTINGS_SCHEMA,
    errors=(413,),
    defer_body=True,
    max_body=settings_service.MAX_BYTES,
)
def update_settings():
    data = settings_service.apply_patch(g.auth.user.id, json_body())
    db.session.commit()
    return ok(data)


class TestWebhookBody(Body):
    url: str | None = None


class WebhookResult(ApiModel):
    url: str
    ok: bool
    status: int | None
    error: str | None
    duration_ms: int
    payload: dict


@bp.endpoint(
    "POST",
    "/settings/test-webhook",
    summary="Send a test payload to the webhook URL",
    body=TestWebhookBody,
    response=WebhookResult,
    description=(
        'Extension: POSTs a sample payload shaped like reminder.fired (event "test", header '
        "X-Cognova-Event: test) to `url` or the saved notifications.webhookUrl, once, and "
        "reports the answer's status. 400 when no URL is given or saved."
    ),
)
def test_webhook(body: TestWebhookBody):
    return ok(settings_service.test_webhook(g.auth.user.id, body.url))
