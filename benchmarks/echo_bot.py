"""The yardstick: a bare python-telegram-bot Application that echoes text and answers button presses.

It does the least a bot can do per update (one reply), with the same HTTP pool, concurrency (256 updates
at once) and long polling as `consultation-bot run`, so a ratio against it isolates what the consultation
bot adds: the state machine, SQLite, ordering, rate limiting, tidying keyboards.
Run as `python -m benchmarks.echo_bot` with BOT_TOKEN and TELEGRAM_API_BASE_URL set.
"""

from __future__ import annotations

import logging
import os

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.delivery.transport import AiohttpRequest


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the text back."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop the spinner, then say which button it was: a tenant waits for a message, as with the real bot."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await context.bot.send_message(query.from_user.id, f"pressed {query.data}")


def build() -> Application:  # type: ignore[type-arg]
    """Same pools and concurrency as bot/delivery/telegram_bot.py and bot/app.py; no rate limiter, no storage.

    PTB's own transport (httpx) unless ECHO_TRANSPORT=aiohttp asks for the one the consultation bot uses.
    """
    request: type[HTTPXRequest] | type[AiohttpRequest] = HTTPXRequest
    if os.environ.get("ECHO_TRANSPORT") == "aiohttp":
        request = AiohttpRequest
    application = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .request(request(connection_pool_size=64, connect_timeout=10, read_timeout=15, write_timeout=15,
                         pool_timeout=10))
        .get_updates_request(request(connection_pool_size=2, connect_timeout=10, read_timeout=40))
        .concurrent_updates(256)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    build().run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


if __name__ == "__main__":
    main()
