"""/export for admins and /stats for staff: thin handlers over storage.export and storage.stats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.runtime import Runtime, runtime_of
from bot.staff.roles import Role, authorised
from conversations.screens.markup import split_message
from storage.export import ExportFile, parse_formats, run_export
from storage.export.figures import megabytes, number, stats_message
from storage.stats import gather_stats

log = logging.getLogger(__name__)
UPLOAD_LIMIT = 50_000_000  # Telegram takes files up to 50 MB from bots; decimal megabytes leave a margin
ZIP_OVER = 1_000_000  # below this a file is sent as it is, one tap to open on a phone
ALREADY_ZIPPED = frozenset({"xlsx", "jsonl"})  # an .xlsx is a zip, and the transcripts come zipped
UPLOAD_TIMEOUT = 300.0


@dataclass(frozen=True)
class Upload:
    """The file to send for one export file: itself, or a zip of it when that is smaller."""

    file: ExportFile
    path: Path
    size: int
    zipped: bool


def prepare(file: ExportFile) -> Upload:
    """Blocking: zip a big CSV or report when that makes it smaller (run in a thread)."""
    if file.format in ALREADY_ZIPPED or file.size <= ZIP_OVER:
        return Upload(file, file.path, file.size, zipped=False)
    packed = file.path.with_name(file.path.name + ".zip")
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(file.path, file.path.name)
    size = packed.stat().st_size
    if size < file.size:
        return Upload(file, packed, size, zipped=True)
    packed.unlink()
    return Upload(file, file.path, file.size, zipped=False)


async def deliver(bot: Bot, runtime: Runtime, chat_id: int, actor_id: int, file: ExportFile,
                  limit: int = UPLOAD_LIMIT, caption_key: str | None = None) -> bool:
    """Send one file as a document; over the limit (or refused), say how to get it from the command line."""
    say = runtime.say
    upload = await asyncio.to_thread(prepare, file)
    name, size = upload.path.name, megabytes(upload.size)
    if upload.size > limit:
        await runtime.db.audit(actor_id, "export", f"{name}: {upload.size} bytes, over the upload limit", "too large")
        await bot.send_message(chat_id, say("export_too_big", name=name, size=size, format=file.format),
                               parse_mode=ParseMode.HTML)
        return False
    caption = say(caption_key or file.caption_key)
    if upload.zipped:
        caption = say("export_caption_zipped", caption=caption)
    try:
        await bot.send_document(chat_id, upload.path, filename=name, caption=caption,
                                write_timeout=UPLOAD_TIMEOUT, read_timeout=UPLOAD_TIMEOUT)
    except TelegramError as error:
        log.warning("could not send %s (%d bytes) to an admin: %s", name, upload.size, error)
        await runtime.db.audit(actor_id, "export", f"{name}: {error}", "not sent")
        await bot.send_message(chat_id, say("export_send_failed", name=name, size=size, format=file.format),
                               parse_mode=ParseMode.HTML)
        return False
    return True


async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export [csv xlsx jsonl html]: pseudonymous files, made from one snapshot, sent as documents."""
    if not await authorised(update, context, Role.ADMIN, "export"):
        return
    runtime, chat, user = runtime_of(context), update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    say = runtime.say
    try:
        formats = parse_formats(runtime.consultation, context.args or [])
    except ValueError as error:
        await context.bot.send_message(chat.id, f"{error}\n{say('export_usage')}")
        return
    await context.bot.send_message(chat.id, say("export_preparing", formats=", ".join(formats)))
    with contextlib.suppress(TelegramError):  # only a hint that something is coming
        await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    with tempfile.TemporaryDirectory(prefix="consultation-export-") as work:
        try:
            result = await run_export(runtime.db, runtime.consultation, Path(work), formats, identities=False,
                                      actor_id=user.id, via="telegram", now=runtime.clock())
        except Exception:
            log.exception("an export for an admin failed")
            await context.bot.send_message(chat.id, say("export_failed"), parse_mode=ParseMode.HTML)
            return
        for file in result.files:
            await deliver(context.bot, runtime, chat.id, user.id, file)
    stats = result.stats
    await context.bot.send_message(chat.id, say("export_done", respondents=number(stats.agreed),
                                                finished=number(stats.finished), partial=number(stats.partial)))


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: the figures and the closing countdown, read on a connection of their own."""
    if not await authorised(update, context, Role.STAFF, "stats"):
        return
    runtime, chat = runtime_of(context), update.effective_chat
    assert chat is not None
    stats = await gather_stats(runtime.db, runtime.consultation)
    text = stats_message(runtime.consultation, stats, runtime.clock())
    for piece in split_message(text):
        await context.bot.send_message(chat.id, piece, parse_mode=ParseMode.HTML)


def add_admin_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Registered before the tenant handlers, whose catch-all would otherwise answer 'unknown command'.

    Any chat type reaches these handlers so that a try from a group is refused and audited too (roles.py
    refuses it; it only replies in private chats). Edited messages are not commands to act on again.
    """
    only_new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("export", on_export, filters=only_new))
    application.add_handler(CommandHandler("stats", on_stats, filters=only_new))
