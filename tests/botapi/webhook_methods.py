"""setWebhook, deleteWebhook and getWebhookInfo over a Store, validated with Telegram's refusal texts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.botapi.model import JSON, UploadedFile, WebhookConfig, bad_request
from tests.botapi.store import Store

# Telegram's answer to getUpdates while a webhook is set (HTTP 409).
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_SECRET = 256
DEFAULT_MAX_CONNECTIONS = 40


def webhook_url(raw: Any) -> str:
    """Accept http as well as https (like a local Bot API server), refuse what cannot be a URL."""
    url = "" if raw is None else str(raw).strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    return url


def secret_token(raw: Any) -> str | None:
    """1-256 of A-Z a-z 0-9 _ -, as Telegram checks; an empty one means no secret, as there."""
    secret = "" if raw is None else str(raw)
    if len(secret) > MAX_SECRET:
        raise bad_request("secret token is too long")
    if not SECRET_TOKEN.match(secret):
        raise bad_request("secret token contains unallowed characters")
    return secret or None


def max_connections(raw: Any) -> int:
    """Telegram clamps max_connections to 1-100 and defaults to 40."""
    if raw is None or raw == "":
        return DEFAULT_MAX_CONNECTIONS
    try:
        return min(max(int(raw), 1), 100)
    except (TypeError, ValueError):
        raise bad_request("can't parse max_connections") from None


def set_webhook(store: Store, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
    """setWebhook: register (or, with an empty url, remove) the webhook the delivery loop posts to."""
    url = webhook_url(params.get("url"))
    secret = secret_token(params.get("secret_token"))
    connections = max_connections(params.get("max_connections"))
    allowed = params.get("allowed_updates")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)):
        raise bad_request("can't parse allowed updates")
    if params.get("drop_pending_updates"):
        store.drop_pending()
    if not url:
        store.webhook = None
        return True
    if isinstance(allowed, list):
        store.allowed_updates = list(allowed)  # omitted: the previous setting stays, as Telegram does
    previous = store.webhook
    store.webhook = WebhookConfig(
        url,
        secret,
        connections,
        list(store.allowed_updates) if store.allowed_updates else None,
        previous.last_error_date if previous else None,
        previous.last_error_message if previous else None,
    )
    return True


def delete_webhook(store: Store, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
    """deleteWebhook: polling bots call it on start; getUpdates works again; drop_pending_updates empties the queue."""
    if params.get("drop_pending_updates"):
        store.drop_pending()
    store.webhook = None
    return True


def get_webhook_info(store: Store, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
    """getWebhookInfo: the registered webhook (url '' when none), its queue and its most recent delivery error."""
    info: JSON = {"url": "", "has_custom_certificate": False, "pending_update_count": store.pending_count()}
    hook = store.webhook
    if hook is None:
        return info
    info.update(url=hook.url, max_connections=hook.max_connections)
    if hook.allowed_updates:
        info["allowed_updates"] = list(hook.allowed_updates)
    if hook.last_error_date is not None:
        info.update(last_error_date=hook.last_error_date, last_error_message=hook.last_error_message)
    return info
