"""The one place an Anthropic client is made.

The key comes from ``ANTHROPIC_API_KEY`` or, when unset, the secret of that name; the base URL
from ``ANTHROPIC_BASE_URL`` (a gateway, or the test double); the model from the user's settings,
else ``COGNOVA_MODEL``. Retries on 429/5xx/overloaded and timeouts are the SDK's own.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import TYPE_CHECKING

import httpx
from flask import current_app

from cognova.services.errors import Unavailable

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

NO_KEY = "Anthropic API key is not configured"
NO_KEY_HINT = (
    "set the ANTHROPIC_API_KEY environment variable, or store a secret named "
    "ANTHROPIC_API_KEY in Settings → Secrets"
)

# The SDK takes over a second to import. Processes that never call Claude (the web process, the
# clock, the command-line scripts) should not pay that at start-up, so it is imported on first
# use; the worker imports it when it starts (``preload``) so that no job waits for it.


def preload() -> None:
    api_errors()


@functools.cache
def transport_errors() -> tuple[type[BaseException], ...]:
    """A stream cut midway surfaces from the HTTP layer, not as an ``anthropic`` error."""
    try:  # the SDK's own HTTP layer (recent releases ship it as ``httpx2``)
        import httpx2

        sdk_transport: tuple[type[BaseException], ...] = (httpx2.TransportError,)
    except ImportError:  # pragma: no cover - older SDKs use httpx itself
        sdk_transport = ()
    return (httpx.TransportError, *sdk_transport)


@functools.cache
def api_errors() -> tuple[type[BaseException], ...]:
    """Every exception a call to Claude can raise for reasons outside the program."""
    import anthropic

    return (anthropic.AnthropicError, *transport_errors())


_clients: dict[tuple, anthropic.Anthropic] = {}
_clients_lock = threading.Lock()


def api_key() -> str | None:
    key = current_app.config.get("ANTHROPIC_API_KEY")
    if key:
        return key
    try:
        from cognova.services import secrets
    except ImportError:
        return None
    try:
        return secrets.get_value("ANTHROPIC_API_KEY") or None
    except Exception:  # an unreadable store means "no key", never a traceback
        log.warning("could not read the ANTHROPIC_API_KEY secret", exc_info=True)
        return None


def require_api_key() -> str:
    key = api_key()
    if not key:
        raise Unavailable(NO_KEY, {"ANTHROPIC_API_KEY": NO_KEY_HINT})
    return key


def model_for(user_id: str | None) -> str:
    """The chat model: the user's ``chat.model`` setting, else ``COGNOVA_MODEL``."""
    if user_id is not None:
        try:
            from cognova.services import settings

            chosen = (settings.effective(user_id).get("chat") or {}).get("model")
            if isinstance(chosen, str) and chosen.strip():
                return chosen.strip()
        except ImportError:
            pass
    return current_app.config["MODEL"]


def get_client(key: str | None = None) -> anthropic.Anthropic:
    """A client for the configured key and base URL, reused so its connection pool stays warm."""
    import anthropic

    key = key or require_api_key()
    config = current_app.config
    ident = (key, config.get("ANTHROPIC_BASE_URL"), config["ANTHROPIC_MAX_RETRIES"])
    with _clients_lock:
        client = _clients.get(ident)
        if client is None:
            client = anthropic.Anthropic(
                api_key=key,
                base_url=config.get("ANTHROPIC_BASE_URL") or None,
                max_retries=config["ANTHROPIC_MAX_RETRIES"],
                timeout=anthropic.Timeout(config["ANTHROPIC_TIMEOUT"], connect=10.0),
            )
            _clients[ident] = client
        return client


def describe_error(exc: BaseException) -> str:
    """A short message for people: what failed, never a traceback."""
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        error = (exc.body or {}).get("error") if isinstance(exc.body, dict) else None
        error = error if isinstance(error, dict) else {}
        kind, detail = error.get("type"), error.get("message")
        if kind == "overloaded_error" or exc.status_code == 529:
            what = "is overloaded"
        elif kind == "rate_limit_error" or exc.status_code == 429:
            what = "rate limit reached"
        elif exc.status_code in (401, 403):
            what = "rejected the API key"
        else:
            what = f"failed ({exc.status_code})"
        return f"Anthropic API {what}" + (
            f": {detail}" if detail and detail.lower() not in what.lower() else ""
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return "Anthropic API timed out"
    if isinstance(exc, (anthropic.APIConnectionError, *transport_errors())):
        return "Connection to the Anthropic API was lost"
    return f"Anthropic API error: {exc}"
