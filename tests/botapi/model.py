"""Plain records the fake Bot API server keeps, so tests can inspect what the bot did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API failure; carried as an exception so handlers can bail out from any depth."""

    def __init__(
        self, error_code: int, description: str | None = None, retry_after: int | None = None
    ) -> None:
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        """Build the JSON body exactly as Telegram shapes error replies."""
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """Shorthand for the most common Telegram refusal, a 400 prefixed 'Bad Request: '."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class UploadedFile:
    """One multipart file part as the bot uploaded it."""

    field: str
    filename: str | None
    data: bytes
    content_type: str | None


@dataclass
class RecordedRequest:
    """One HTTP call the bot made, in arrival order, with the status we answered."""

    seq: int
    method: str
    params: JSON
    time: float
    token_ok: bool
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    response: Any = None


@dataclass
class StoredMessage:
    """A message in a chat as Telegram currently holds it (edits applied in place)."""

    chat_id: int
    message_id: int
    data: JSON
    from_bot: bool
    source_text: str | None = None
    parse_mode: str | None = None
    # Non-inline reply_markup (reply keyboard, remove, force reply): Telegram never echoes it back.
    keyboard: JSON | None = None
    previous_texts: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """The visible text (caption for media), as Telegram would show it after entity parsing."""
        return self.data.get("text", self.data.get("caption"))

    @property
    def reply_markup(self) -> JSON | None:
        """The current inline reply_markup (Telegram echoes only inline keyboards), or None."""
        return self.data.get("reply_markup")

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """Rows of inline buttons; empty when the message has no inline keyboard."""
        markup = self.reply_markup or {}
        return [list(row) for row in markup.get("inline_keyboard", [])]

    @property
    def buttons(self) -> list[JSON]:
        """All inline buttons flattened in reading order, for easy lookup in tests."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        """Labels of all inline buttons in reading order."""
        return [button["text"] for button in self.buttons]

    def callback_data(self, button_text: str) -> str:
        """Find the callback_data behind a label so tests press buttons by what users see."""
        for button in self.buttons:
            if button.get("text") == button_text and "callback_data" in button:
                return str(button["callback_data"])
        raise KeyError(
            f"no callback button {button_text!r} in message {self.message_id}: {self.button_texts}"
        )


@dataclass
class ReceivedDocument:
    """A file the bot sent with sendDocument."""

    chat_id: int
    message_id: int
    filename: str | None
    data: bytes
    mime_type: str | None
    caption: str | None


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery call, linked back to the query it answered."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    user_id: int | None
    data: str | None
    message_id: int | None
    time: float


@dataclass
class WebhookConfig:
    """What setWebhook registered; getWebhookInfo reports it and the delivery loop posts by it."""

    url: str
    secret_token: str | None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class DeliveryAttempt:
    """One webhook POST of one update, so tests can check splits, retries, order and overlaps."""

    update_id: int
    url: str
    kind: str | None
    user_id: int | str | None  # whose queue: the user, else the chat
    started_at: float  # time.time(), comparable with what a receiver in another process records
    finished_at: float | None = None  # None while the POST is in flight
    status: int | None = None  # the HTTP status the receiver answered
    error: str | None = None  # why no status came back (refused, timeout), as getWebhookInfo words it
    redelivery: bool = False  # an extra copy after an acknowledgement (duplicate_rate, deliver_again, ...)
    concurrent: bool = False  # one of two copies posted at once (concurrent_duplicate_rate)
    lost: bool = False  # the receiver answered, but the answer never reached Telegram (lose_acknowledgement)

    @property
    def acknowledged(self) -> bool:
        """Telegram counts only a 2xx answer that reached it as delivered."""
        return self.status is not None and 200 <= self.status < 300 and not self.lost
