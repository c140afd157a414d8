"""The one place the python-telegram-bot Application is wired: builder, handlers, start-up and shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.consultation_source import consultation_for
from bot.delivery.outbox import Outbox, Outgoing
from bot.delivery.telegram_bot import make_bot
from bot.logging_setup import configure_logging
from bot.runtime import Runtime, runtime_of
from bot.settings import Settings, StartupError
from bot.staff.admin_handlers import add_admin_handlers
from bot.staff.alerts import add_alert_handlers
from bot.staff.handlers import add_staff_handlers
from bot.staff.services import start_staff_services, stop_staff_services
from bot.staff.themes_handlers import add_themes_handlers
from bot.startup import abandon, open_database, reach_telegram
from bot.tenant import handlers as tenant
from bot.tenant.ordering import PerTenantUpdateProcessor
from conversations.replies import Reply
from storage import StorageUnavailableError

log = logging.getLogger(__name__)
OUTBOX_DRAIN_SECONDS = 5  # SIGTERM to exit stays well under 10 s
TENANT_COMMANDS = ("start", "help", "review", "privacy", "mydata", "delete", "stop", "reminders")
STAFF_COMMANDS: tuple[str, ...] = ("broadcast", "stats", "alerts")
ADMIN_COMMANDS: tuple[str, ...] = ("export", "themes")


def build_application(runtime: Runtime, webhook: bool = False) -> Application:  # type: ignore[type-arg]
    """Builder, handlers and lifecycle hooks; nothing happens until the Application is started.

    In webhook mode there is no Updater: bot.webhook stores updates and feeds them to process_update itself, one
    tenant at a time across workers, so the per-tenant update processor here (polling's) is never in the way."""
    settings = runtime.settings
    updates = PerTenantUpdateProcessor()
    builder = (
        ApplicationBuilder()
        .bot(make_bot(settings, busy=updates.busy))
        .concurrent_updates(updates)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["runtime"] = runtime
    runtime.in_hand = updates.in_hand_for
    add_admin_handlers(application)  # before the tenants' catch-all for unknown commands
    add_alert_handlers(application)
    add_themes_handlers(application)  # an .xlsx sent back is an admin's, before the tenants' "can't read files"
    add_tenant_handlers(application)
    add_staff_handlers(application)
    application.add_error_handler(_on_error)
    return application


def add_tenant_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """One handler per intent; private chats only for everything a tenant does."""
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, tenant.on_channel_post))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, tenant.on_edited))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, tenant.on_channel_post))
    application.add_handler(MessageHandler(~private, tenant.on_group))
    commands = {
        "start": tenant.on_start, "help": tenant.on_help, "review": tenant.on_review,
        "privacy": tenant.on_privacy, "mydata": tenant.on_mydata, "delete": tenant.on_delete,
        "stop": tenant.on_stop, "reminders": tenant.on_reminders,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, tenant.on_text))
    application.add_handler(MessageHandler(private & filters.COMMAND, tenant.on_unknown_command))
    application.add_handler(MessageHandler(private, tenant.on_unsupported))
    application.add_handler(CallbackQueryHandler(tenant.on_button))
    application.add_handler(ChatMemberHandler(tenant.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(TypeHandler(Update, tenant.on_anything_else))  # last: only what nothing else took


def _commands(runtime: Runtime, names: tuple[str, ...]) -> list[BotCommand]:
    """Menu entries, described in the bot's own wording."""
    return [BotCommand(name, runtime.say(f"command_{name}")) for name in names]


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """The database is open (bot.startup): set the command menus, staff and admin commands only in their own chats."""
    runtime: Runtime = application.bot_data["runtime"]
    bot = application.bot
    database = runtime.db

    async def unreachable(user_id: int) -> None:
        await database.mark_blocked(user_id, True)

    runtime.outbox = Outbox(bot, on_blocked=unreachable)
    await bot.set_my_commands(_commands(runtime, TENANT_COMMANDS), scope=BotCommandScopeDefault())
    settings = runtime.settings
    for user_id in sorted(settings.staff_ids | settings.admin_ids):
        names = TENANT_COMMANDS + STAFF_COMMANDS + (ADMIN_COMMANDS if settings.is_admin(user_id) else ())
        try:
            await bot.set_my_commands(_commands(runtime, names), scope=BotCommandScopeChat(user_id))
        except TelegramError as error:  # they have not started the bot yet: the menu comes later
            log.warning("could not set the staff menu for a staff chat: %s", error)
    await start_staff_services(application)
    # Everything loaded so far lives as long as the process: keep it out of the garbage collector's full passes,
    # which otherwise walk it all every few seconds under load (60 ms pauses, seen as bursts and slow replies).
    gc.freeze()
    log.info("consultation '%s' loaded; the bot is ready", runtime.consultation.id)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    """Every step in hand has finished: let queued replies go out, for a bounded time."""
    runtime: Runtime = application.bot_data["runtime"]
    await stop_staff_services(application)
    if runtime.outbox is not None:
        await runtime.outbox.close(timeout=OUTBOX_DRAIN_SECONDS)


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    """Close the database after the last step has finished."""
    runtime: Runtime = application.bot_data["runtime"]
    await stop_staff_services(application)  # if post_stop never ran (start-up failed part-way)
    if runtime.database is not None:
        await runtime.database.close()
        runtime.database = None


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the detail for us; tell the tenant something kind, never a stack trace."""
    error = context.error
    if update is None:
        if isinstance(error, NetworkError):  # python-telegram-bot retries polling by itself
            log.warning("Telegram could not be reached while polling (%s); retrying", type(error).__name__)
        else:
            log.error("error outside any update (polling or a background job): %r", error, exc_info=error)
        return
    update_id = getattr(update, "update_id", "?")
    if isinstance(error, StorageUnavailableError):  # a fault of the machine: the tenant is asked to try again
        log.warning("update %s not stored, the database is unavailable: %s", update_id, error)
    else:
        log.error("error while handling update %s: %r", update_id, error, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    runtime = runtime_of(context)
    key = "try_again_shortly" if isinstance(error, StorageUnavailableError) else "something_went_wrong"
    runtime.send(update.effective_chat.id, Outgoing((Reply(runtime.say(key)),)))
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError as answer_error:
            log.warning("could not answer the button press after an error: %s", answer_error)


def run_bot(settings: Settings) -> int:
    """`consultation-bot run`: long polling that keeps updates sent while the bot was down.

    The database and Telegram are checked first, on the loop run_polling then uses: a problem there raises
    StartupError (one line for the person starting the bot) with everything already closed.
    """
    configure_logging(settings.log_level, settings.bot_token)
    runtime = Runtime(settings=settings, consultation=consultation_for(settings))
    application = build_application(runtime)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(open_database(runtime))
        loop.run_until_complete(reach_telegram(application, runtime))
    except StartupError:
        loop.run_until_complete(abandon(application, runtime))
        loop.close()
        raise
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0
