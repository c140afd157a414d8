"""/themes and the edited workbook sent back: admins only, in their private chat, every attempt audited."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path

from telegram import Document, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.runtime import Runtime, runtime_of
from bot.staff.admin_handlers import deliver
from bot.staff.roles import Role, authorised
from conversations.screens.markup import split_message
from storage.export import ExportFile, run_export
from storage.export.figures import megabytes
from storage.themes import WorkbookProblems, WorkbookResult, apply_workbook, make_workbook
from storage.themes.runs import run_lines

log = logging.getLogger(__name__)
DOWNLOAD_LIMIT = 20_000_000  # bots may download files up to 20 MB through getFile
SHOWN_PROBLEMS = 30  # more than this in one reply helps nobody: the rest are counted
XLSX_TYPES = frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})


def is_workbook(document: Document) -> bool:
    """An .xlsx by name or by type: what Excel saves and Telegram passes on."""
    name = (document.file_name or "").lower()
    return name.endswith(".xlsx") or (document.mime_type or "") in XLSX_TYPES


def summary(runtime: Runtime, result: WorkbookResult) -> str:
    """One line per question: answers, themes, confirmed, needs reading."""
    if not any(run.answers for run in result.runs):
        return runtime.say("themes_none")
    return "\n".join(run_lines(runtime.say, result.runs))


async def _send_workbook(update: Update, context: ContextTypes.DEFAULT_TYPE, result: WorkbookResult) -> None:
    """The workbook as a document (zipping never helps an .xlsx), then what the run found."""
    runtime, chat, user = runtime_of(context), update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    file = ExportFile("xlsx", result.path, result.path.stat().st_size)
    with contextlib.suppress(TelegramError):
        await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    await deliver(context.bot, runtime, chat.id, user.id, file, caption_key="themes_caption")
    for piece in split_message(summary(runtime, result)):
        await context.bot.send_message(chat.id, piece)


async def on_themes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/themes [QUESTION_ID]: suggest or reassign themes and send analysis.xlsx to review."""
    if not await authorised(update, context, Role.ADMIN, "themes"):
        return
    runtime, chat, user = runtime_of(context), update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    args = context.args or []
    question_id = args[0] if args else None
    await context.bot.send_message(chat.id, runtime.say("themes_preparing"))
    with tempfile.TemporaryDirectory(prefix="consultation-themes-") as work:
        try:
            result = await make_workbook(runtime.db, runtime.consultation, Path(work), question_id, user.id,
                                         "telegram", runtime.clock())
        except ValueError as error:  # an unknown question id: say which ones there are
            await context.bot.send_message(chat.id, f"{error}\n{runtime.say('themes_usage')}")
            return
        except Exception:
            log.exception("a theme run for an admin failed")
            await context.bot.send_message(chat.id, runtime.say("themes_failed"), parse_mode=ParseMode.HTML)
            return
        await _send_workbook(update, context, result)
    await context.bot.send_message(chat.id, runtime.say("themes_done"))


async def _refused(update: Update, context: ContextTypes.DEFAULT_TYPE, problems: list[str]) -> None:
    """Every problem on its own line, under a line that says nothing changed."""
    runtime, chat = runtime_of(context), update.effective_chat
    assert chat is not None
    say = runtime.say
    lines = [say("themes_refused"), *(f"• {p}" for p in problems[:SHOWN_PROBLEMS])]
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(say("themes_refused_more", count=len(problems) - SHOWN_PROBLEMS))
    for piece in split_message("\n".join(lines)):
        await context.bot.send_message(chat.id, piece)


async def on_workbook(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited analysis.xlsx: check it all, apply it, reassign, then send the new workbook and the report."""
    if not await authorised(update, context, Role.ADMIN, "themes upload"):
        return
    runtime, chat, user, message = runtime_of(context), update.effective_chat, update.effective_user, \
        update.effective_message
    assert chat is not None and user is not None and message is not None and message.document is not None
    say, document = runtime.say, message.document
    if (document.file_size or 0) > DOWNLOAD_LIMIT:
        await runtime.db.audit(user.id, "themes upload", f"{document.file_size} bytes, over the limit", "refused")
        await context.bot.send_message(chat.id, say("themes_upload_too_big", size=megabytes(document.file_size or 0),
                                                    limit=megabytes(DOWNLOAD_LIMIT)), parse_mode=ParseMode.HTML)
        return
    await context.bot.send_message(chat.id, say("themes_checking"))
    with tempfile.TemporaryDirectory(prefix="consultation-themes-") as work:
        folder = Path(work)
        upload = folder / "uploaded.xlsx"
        try:
            telegram_file = await context.bot.get_file(document.file_id)
            await telegram_file.download_to_drive(upload)
            result = await apply_workbook(runtime.db, runtime.consultation, upload, folder / "out", user.id,
                                          "telegram", runtime.clock())
        except WorkbookProblems as refused:
            await runtime.db.audit(user.id, "themes upload", f"{len(refused.problems)} problems; nothing changed",
                                   "refused")
            await _refused(update, context, refused.problems)
            return
        except Exception:
            log.exception("applying an analysis workbook failed")
            await context.bot.send_message(chat.id, say("themes_failed"), parse_mode=ParseMode.HTML)
            return
        await _send_workbook(update, context, result)
        await _send_report(update, context, folder / "report")
        lines = [say("themes_applied", changes=result.applied) if result.applied else say("themes_nothing_changed")]
        if result.gone:
            lines.append(say("themes_applied_gone", count=result.gone))
        await context.bot.send_message(chat.id, "\n".join(lines))


async def _send_report(update: Update, context: ContextTypes.DEFAULT_TYPE, folder: Path) -> None:
    """report.html as it now stands (and its appendix), through the audited export."""
    runtime, chat, user = runtime_of(context), update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    result = await run_export(runtime.db, runtime.consultation, folder, ("html",), identities=False,
                              actor_id=user.id, via="telegram themes", now=runtime.clock())
    for file in result.files:
        await deliver(context.bot, runtime, chat.id, user.id, file,
                      caption_key="themes_report_caption" if file.path.name == "report.html" else None)


def add_themes_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Before the tenants' handlers: a workbook from anyone is an admin action (refused and audited if not)."""
    only_new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("themes", on_themes, filters=only_new))
    workbook = filters.Document.FileExtension("xlsx") | filters.Document.MimeType(next(iter(XLSX_TYPES)))
    application.add_handler(MessageHandler(only_new & workbook, on_workbook))
