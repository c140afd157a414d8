"""Logging that never writes the bot token, and keeps the HTTP client's request URLs out of INFO."""

from __future__ import annotations

import logging


def redacted(text: str, token: str) -> str:
    """`text` with the token, and its secret part on its own, taken out (the bot's numeric id may stay)."""
    if not token:
        return text
    secret = token.split(":", 1)[-1]
    return text.replace(token, "<BOT_TOKEN>").replace(secret, "<BOT_TOKEN>")


class RedactToken(logging.Filter):
    """Replaces the token wherever it appears in a record, whatever logger wrote it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.secret = token.split(":", 1)[-1]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg = redacted(message, self.token)
            record.args = None
        if record.exc_info and record.exc_info[1] and self.secret in str(record.exc_info[1]):
            record.exc_text = redacted(logging.Formatter().formatException(record.exc_info), self.token)
            record.exc_info = None
        return True


class RedactSecret(logging.Filter):
    """Replaces another secret (the webhook's) wherever it appears in a record's message."""

    def __init__(self, secret: str, name: str) -> None:
        super().__init__()
        self.secret = secret
        self.placeholder = f"<{name}>"

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret and self.secret in (message := record.getMessage()):
            record.msg = message.replace(self.secret, self.placeholder)
            record.args = None
        return True


def configure_logging(level: str, token: str, webhook_secret: str = "") -> None:
    """One place for log set-up: our level, httpx quiet, the token (and the webhook's secret) filtered from every
    handler."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL (which contains the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
        if webhook_secret:
            handler.addFilter(RedactSecret(webhook_secret, "WEBHOOK_SECRET"))
