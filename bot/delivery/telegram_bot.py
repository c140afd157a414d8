"""The Bot object: python-telegram-bot's ExtBot, made tolerant of updates it cannot read and of outages."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from typing import Any

from telegram import Chat, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.delivery.rate_limit import PACED, FairRateLimiter
from bot.delivery.transport import AiohttpRequest
from bot.settings import Settings

log = logging.getLogger(__name__)
BATCH_WAIT_SECONDS = 0.02  # a busy bot's next poll waits this long, so it brings a batch instead of one update
POLL_RETRY_SECONDS = (0.5, 1, 2, 3, 5)  # between polls while Telegram cannot be reached; then every 5 s


class TolerantBot(ExtBot[dict[str, Any]]):
    """One unreadable update must not stall every tenant behind it.

    python-telegram-bot parses a whole getUpdates batch at once; a single update it cannot parse fails
    the batch, is never confirmed, and comes back forever. Here each update is checked on its own and an
    unreadable one is replaced by a bare update with the same id, so it is confirmed and silently dropped
    (logged by id only: its content may be a tenant's words).
    """

    def __init__(self, *args: Any, busy: Callable[[], bool] = lambda: False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._busy = busy
        self._poll_failures = 0

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        if endpoint != "getUpdates":
            return await super()._post(endpoint, data, *args, **kwargs)
        if self._busy():
            # Under load each poll would otherwise return the single update that arrived since the last one:
            # a call (and its CPU) per update. An idle bot polls at once, so a lone tenant never waits for this.
            await asyncio.sleep(BATCH_WAIT_SECONDS)
        result = await self._poll(data, *args, **kwargs)
        if isinstance(result, list):
            return [self._readable(item) for item in result
                    if isinstance(item, dict) and isinstance(item.get("update_id"), int)]
        return result

    async def _poll(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        """getUpdates; while Telegram cannot be reached, wait here (at most 5 s, cut short by a stop).

        python-telegram-bot waits between failed polls too, but its wait grows to 30 s and a stop does not cut
        it short, so a restart during an outage took half a minute. Waiting here, inside the poll a stop cancels,
        then reporting a timeout makes it poll again at once, without a wait of its own.
        """
        try:
            result = await super()._post("getUpdates", data, *args, **kwargs)
        except (BadRequest, TimedOut):
            raise  # a refused request, or a long poll that timed out: python-telegram-bot's to handle
        except NetworkError as error:
            if not isinstance(data, dict) or not data.get("timeout"):
                raise  # the last, short poll of a shutdown: nothing to wait for
            self._poll_failures += 1
            if self._poll_failures == 1 or self._poll_failures % 12 == 0:
                log.warning("Telegram could not be reached while polling (%s); trying again every few seconds",
                            error)
            await asyncio.sleep(POLL_RETRY_SECONDS[min(self._poll_failures, len(POLL_RETRY_SECONDS)) - 1])
            raise TimedOut("Telegram could not be reached") from error
        if self._poll_failures:
            log.warning("Telegram can be reached again after %d failed polls", self._poll_failures)
            self._poll_failures = 0
        return result

    async def send_html(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None,
                        paced: bool = False) -> int:
        """sendMessage in HTML, returning only the new message's id; `paced` waits for the chat's budget.

        send_message builds a whole Message from Telegram's answer; that parsing was a large part of the bot's CPU
        under load (benchmarks/analysis.md), for the one number the bot keeps. The call is the same one, through the
        same rate limiter, and fails with the same errors.
        """
        data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
        if markup is not None:
            data["reply_markup"] = markup
        traffic = self._merge_api_rl_kwargs(None, PACED) if paced else None
        result = await self._post("sendMessage", data, api_kwargs=traffic)
        return int(result["message_id"])

    async def edit_html(self, chat_id: int, message_id: int, text: str,
                        markup: InlineKeyboardMarkup | None = None) -> None:
        """editMessageText in HTML; like send_html, Telegram's answer is not parsed into a Message."""
        data: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text,
                                "parse_mode": ParseMode.HTML}
        if markup is not None:
            data["reply_markup"] = markup
        await self._post("editMessageText", data)

    async def remove_buttons(self, chat_id: int, message_id: int) -> None:
        """editMessageReplyMarkup without a markup (Telegram removes the buttons); the answer is not parsed."""
        await self._post("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})

    def _readable(self, item: dict[str, Any]) -> dict[str, Any]:
        """The update if python-telegram-bot can parse it and the handlers can use it, else an empty update."""
        try:
            update = Update.de_json(copy.deepcopy(item), self)
        except Exception as error:  # any parse failure: the shape of hostile input is unknowable
            log.warning("dropped update %s: it could not be read (%s)", item["update_id"], type(error).__name__)
            return {"update_id": item["update_id"]}
        problem = unusable(update)
        if problem is not None:
            log.warning("dropped update %s: %s", item["update_id"], problem)
            return {"update_id": item["update_id"]}
        return item


def unusable(update: Update) -> str | None:
    """Why an update breaks what Telegram always guarantees (and the handlers rely on), or None if it is fine.

    python-telegram-bot parses leniently: a message without a chat, text that is a number or a button press
    without a sender all parse, then fail deep inside a filter or a handler. Telegram never sends these, and a
    private chat is always the sender's own, so a message claiming otherwise is forged: dropped, never answered
    (answering would write into someone else's chat). The reasons name no content.
    """
    for message in (update.message, update.edited_message, update.channel_post, update.edited_channel_post):
        if message is None:
            continue
        chat, sender = message.chat, message.from_user
        if chat is None or not isinstance(chat.id, int) or not isinstance(chat.type, str):
            return "a message without a usable chat"
        if sender is not None and not isinstance(sender.id, int):
            return "a message from a sender without a usable id"
        if chat.type == Chat.PRIVATE and (sender is None or sender.id != chat.id):
            return "a private message not from that chat's own user"
        if not all(isinstance(part, str | None) for part in (message.text, message.caption)):
            return "a message whose text is not text"
    query = update.callback_query
    if query is not None:
        if query.from_user is None or not isinstance(query.from_user.id, int):
            return "a button press without a usable sender"
        if not isinstance(query.data, str | None):
            return "a button press whose data is not text"
        where = query.message.chat if query.message is not None else None
        if where is not None and (not isinstance(where.id, int) or (
                where.type == Chat.PRIVATE and where.id != query.from_user.id)):
            return "a button press on a private chat that is not the presser's"
    return None


def file_url(api_base_url: str) -> str:
    """Where files are downloaded: Telegram serves https://api.telegram.org/file/bot<token>/<path>."""
    head, bot = api_base_url.rstrip("/").rsplit("/", 1) if "/" in api_base_url else (api_base_url, "bot")
    return f"{head}/file/{bot}"


def make_bot(settings: Settings, busy: Callable[[], bool] = lambda: False) -> TolerantBot:
    """The bot with its HTTP pools, timeouts and rate limiter, pointed at TELEGRAM_API_BASE_URL."""
    return TolerantBot(
        busy=busy,
        token=settings.bot_token,
        base_url=settings.api_base_url,
        base_file_url=file_url(settings.api_base_url),
        request=AiohttpRequest(connection_pool_size=64, connect_timeout=10, read_timeout=15, write_timeout=15,
                               pool_timeout=10),
        get_updates_request=AiohttpRequest(connection_pool_size=2, connect_timeout=10, read_timeout=40),
        rate_limiter=FairRateLimiter(overall_rate=settings.send_rate, chat_rate=settings.chat_send_rate),
    )
