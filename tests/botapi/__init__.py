"""Local fake of the Telegram Bot API so the real bot can be tested end to end without Telegram."""

from tests.botapi.model import (
    ApiError,
    CallbackAnswer,
    DeliveryAttempt,
    ReceivedDocument,
    RecordedRequest,
    StoredMessage,
    WebhookConfig,
)
from tests.botapi.server import DEFAULT_TOKEN, BotApiServer

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiServer",
    "CallbackAnswer",
    "DeliveryAttempt",
    "ReceivedDocument",
    "RecordedRequest",
    "StoredMessage",
    "WebhookConfig",
]
