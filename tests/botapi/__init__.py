"""Local fake of the Telegram Bot API so the real bot can be tested end to end without Telegram."""

from tests.botapi.model import ApiError, CallbackAnswer, ReceivedDocument, RecordedRequest, StoredMessage
from tests.botapi.server import DEFAULT_TOKEN, BotApiServer

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiServer",
    "CallbackAnswer",
    "ReceivedDocument",
    "RecordedRequest",
    "StoredMessage",
]
