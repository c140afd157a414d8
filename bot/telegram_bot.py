"""The Bot object: python-telegram-bot's ExtBot, made tolerant of updates it cannot read."""

from __future__ import annotations

import copy
import logging
from typing import Any

from telegram import Update
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.rate_limit import FairRateLimiter
from bot.settings import Settings

log = logging.getLogger(__name__)


class TolerantBot(ExtBot[dict[str, Any]]):
    """One unreadable update must not stall every tenant behind it.

    python-telegram-bot parses a whole getUpdates batch at once; a single update it cannot parse fails
    the batch, is never confirmed, and comes back forever. Here each update is checked on its own and an
    unreadable one is replaced by a bare update with the same id, so it is confirmed and silently dropped
    (logged by id only: its content may be a tenant's words).
    """

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [self._readable(item) for item in result
                    if isinstance(item, dict) and isinstance(item.get("update_id"), int)]
        return result

    def _readable(self, item: dict[str, Any]) -> dict[str, Any]:
        """The update if python-telegram-bot can parse it, else an empty update with its id."""
        try:
            Update.de_json(copy.deepcopy(item), self)
        except Exception as error:  # any parse failure: the shape of hostile input is unknowable
            log.warning("dropped update %s: it could not be read (%s)", item["update_id"], type(error).__name__)
            return {"update_id": item["update_id"]}
        return item


def make_bot(settings: Settings) -> TolerantBot:
    """The bot with its HTTP pools, timeouts and rate limiter, pointed at TELEGRAM_API_BASE_URL."""
    return TolerantBot(
        token=settings.bot_token,
        base_url=settings.api_base_url,
        request=HTTPXRequest(connection_pool_size=64, connect_timeout=10, read_timeout=15, write_timeout=15,
                             pool_timeout=10),
        get_updates_request=HTTPXRequest(connection_pool_size=2, connect_timeout=10, read_timeout=40),
        rate_limiter=FairRateLimiter(overall_rate=settings.send_rate, chat_rate=settings.chat_send_rate),
    )
