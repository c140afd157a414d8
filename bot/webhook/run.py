"""`consultation-bot run --webhook`: start-up checks, the HTTP server, setWebhook, the processor; SIGTERM drains.

python-telegram-bot's run_webhook is not used: its handler answers Telegram before the update is stored. This runs
the Application's lifecycle by hand instead, in run_polling's order (initialize, post_init, start; then stop,
post_stop, shutdown, post_shutdown). deleteWebhook is never called at shutdown: another worker may still serve.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
from typing import Any

from telegram import Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import Application

from bot.app import build_application
from bot.consultation_source import consultation_for
from bot.logging_setup import configure_logging
from bot.runtime import Runtime
from bot.settings import Settings, StartupError
from bot.startup import abandon, open_database, reach_telegram
from bot.webhook.processor import InboxProcessor
from bot.webhook.server import WebhookServer
from storage import StorageUnavailableError
from storage.inbox import InboxUpdate

log = logging.getLogger(__name__)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def run_webhook_bot(settings: Settings) -> int:
    """Serve until SIGTERM or Ctrl-C; a start-up problem raises StartupError (one line) with everything closed."""
    configure_logging(settings.log_level, settings.bot_token, settings.webhook_secret)
    runtime = Runtime(settings=settings, consultation=consultation_for(settings))
    application = build_application(runtime, webhook=True)
    asyncio.run(serve(application, runtime))
    return 0


async def _listen(server: WebhookServer, settings: Settings) -> None:
    where = f"{settings.webhook_listen}:{settings.webhook_port}"
    try:
        await server.start(settings.webhook_listen, settings.webhook_port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise StartupError(f"cannot listen on {where}: the port is in use (another program, or another "
                               "worker): set WEBHOOK_PORT to a free one") from None
        reason = (error.strerror or str(error)).lower()
        raise StartupError(f"cannot listen on {where} ({reason}): check WEBHOOK_LISTEN and WEBHOOK_PORT") from None


async def _register(application: AnyApplication, settings: Settings) -> None:
    """setWebhook with the secret; several workers each calling it is harmless (the same URL, the same secret)."""
    try:
        await application.bot.set_webhook(
            url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    except NetworkError as error:
        raise StartupError(f"Telegram could not be reached to set the webhook ({type(error).__name__}): "
                           "check the network, or TELEGRAM_API_BASE_URL") from None
    except TelegramError as error:
        raise StartupError(f"Telegram refused the webhook {settings.webhook_url} ({error.message}): "
                           "check WEBHOOK_URL") from None


async def _apply(application: AnyApplication, row: InboxUpdate) -> None:
    """One stored update through the Application's handlers (errors go to its error handler, as in polling)."""
    update = Update.de_json(json.loads(row.payload), application.bot)
    await application.process_update(update)


def _stop_on_signals(stopping: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)


async def serve(application: AnyApplication, runtime: Runtime, stopping: asyncio.Event | None = None) -> None:
    """Start, serve until `stopping` is set (or a signal comes), then drain and stop."""
    settings = runtime.settings
    server: WebhookServer | None = None
    try:
        await open_database(runtime)
        await reach_telegram(application, runtime)
        server = WebhookServer(runtime.db, settings.webhook_secret, settings.webhook_path)
        await _listen(server, settings)
        await _register(application, settings)
    except StartupError:
        if server is not None:
            await server.stop()
        await abandon(application, runtime)
        raise
    worker = settings.worker_name or str(os.getpid())
    processor = InboxProcessor(runtime.db, lambda row: _apply(application, row), worker)
    server.on_stored = processor.nudge
    runtime.in_hand = processor.in_hand_for
    stopping = stopping or asyncio.Event()
    _stop_on_signals(stopping)
    started = processing = False
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        started = True
        try:
            await processor.start()
        except StorageUnavailableError as error:
            raise StartupError(f"the tenant lock connection to the database could not be opened ({error})") from None
        processing = True
        log.info("webhook ready: listening on %s:%d for %s (worker %s)", settings.webhook_listen,
                 settings.webhook_port, server.path, worker)
        await stopping.wait()
        log.info("stopping: no new updates are taken; the ones in hand finish")
        server.drain()
    finally:
        server.drain()
        if processing:
            await processor.stop()
        await server.stop()
        if started:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
