"""/broadcast for staff: choose who, type the message, see the exact number it will reach, confirm or cancel.

The flow's state is a draft row keyed by the staff member's id, so a restart part-way through loses nothing.
Every button carries the owner's id and the draft's token: only that staff member can use it, and only on the
draft it was made for. These handlers sit in a group before the tenant's, so while a staff member is typing
their message it goes here and not to the consultation (a staff member can be a tenant too).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import timedelta
from functools import wraps
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.runtime import Runtime, runtime_of
from bot.staff.roles import Role, authorised
from bot.staff.services import broadcaster_of
from storage import broadcast_drafts as drafts
from storage import broadcasts
from storage.audiences import AFTER_CLOSE_ONLY
from storage.broadcast_drafts import Draft
from storage.updates import claim_update

log = logging.getLogger(__name__)
ACTION = "broadcast"
GROUP = -5  # before the tenant handlers (group 0): a staff member's message being composed is not an answer
PREFIX = "bc"
CODES = {"snf": "started_not_finished", "fin": "finished", "agr": "agreed", "tkp": "took_part"}
SEND, CANCEL = "go", "x"
DRAFT_TTL = timedelta(minutes=30)  # a forgotten draft must not swallow the staff member's answers days later
RESUME_AUDIENCES = frozenset({"started_not_finished"})
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[bool]]


def consumes(handler: Handler) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """When the handler took the update (returned True), later groups (the tenant's) never see it."""

    @wraps(handler)
    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await handler(update, context):
            raise ApplicationHandlerStop

    return wrapped


def button(owner: int, token: str, action: str, label: str) -> InlineKeyboardButton:
    """A button only its owner can use, on the draft it was made for (well under 64 bytes)."""
    return InlineKeyboardButton(label, callback_data=f"{PREFIX}:{owner}:{token}:{action}")


def parse_button(data: str) -> tuple[int, str, str] | None:
    """(owner, token, action) from a button's data, or None for something malformed."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2], parts[3]


def label(runtime: Runtime, audience: str) -> str:
    """An audience as staff read it."""
    return runtime.say(f"audience_{audience}")


@consumes
async def on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """/broadcast: a fresh draft, and the audiences with how many each would reach now."""
    if not await authorised(update, context, Role.STAFF, ACTION):
        return True
    runtime, user = runtime_of(context), update.effective_user
    assert user is not None
    now, consultation = runtime.clock(), runtime.consultation
    token = secrets.token_hex(3)
    await drafts.save(runtime.db, Draft(user.id, token, "audience", now))
    rows = []
    for code, audience in CODES.items():
        if audience in AFTER_CLOSE_ONLY and now < consultation.closes_at:
            continue
        count = await broadcasts.audience_count(runtime.db, consultation.id, audience)
        text = runtime.say("broadcast_audience_button", label=label(runtime, audience), count=count)
        rows.append([button(user.id, token, code, text)])
    rows.append([button(user.id, token, CANCEL, runtime.say("button_broadcast_cancel"))])
    await context.bot.send_message(user.id, runtime.say("broadcast_choose_audience"), parse_mode=ParseMode.HTML,
                                   reply_markup=InlineKeyboardMarkup(rows))
    return True


@consumes
async def on_broadcast_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Audience, Send or Cancel: only for staff, only the draft's owner, only on the current draft."""
    query = update.callback_query
    assert query is not None
    if not query.data:  # a press with no data matches every pattern in python-telegram-bot: not ours
        return False
    if not await authorised(update, context, Role.STAFF, ACTION):
        return True
    runtime = runtime_of(context)
    parsed = parse_button(query.data or "")
    if parsed is not None and parsed[0] != query.from_user.id:
        await runtime.db.audit(query.from_user.id, ACTION, "pressed another staff member's broadcast button",
                               outcome="refused")
        await _answer(update, runtime.say("broadcast_not_yours"), alert=True)
        return True
    draft = await drafts.get(runtime.db, query.from_user.id)
    if parsed is None or draft is None or draft.token != parsed[1] or _stale(runtime, draft):
        await _expired(update, runtime)
        return True
    action = parsed[2]
    if action == CANCEL:
        await drafts.discard(runtime.db, draft.staff_id, draft.token)
        await _answer(update)
        await _replace_message(update, runtime.say("broadcast_cancelled"))
    elif action in CODES and draft.step == "audience":
        await _choose_audience(update, runtime, draft, CODES[action])
    elif action == SEND and draft.step == "preview":
        await _confirm(update, context, runtime, draft)
    else:
        await _expired(update, runtime)
    return True


def _stale(runtime: Runtime, draft: Draft) -> bool:
    """A draft left alone too long has lapsed."""
    return runtime.clock() - draft.updated_at > DRAFT_TTL


async def _expired(update: Update, runtime: Runtime) -> None:
    """An old or used keyboard: say so, and take its buttons away."""
    assert update.callback_query is not None
    await _answer(update, runtime.say("broadcast_expired"))
    await _replace_message(update, None)


async def _answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer the press; one too old to answer changes nothing else."""
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(text, show_alert=alert)
    except BadRequest as error:
        log.info("could not answer a broadcast button press: %s", error)


async def _replace_message(update: Update, text: str | None) -> None:
    """The pressed message gets new words (or just loses its buttons)."""
    query = update.callback_query
    assert query is not None
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup=None)
        else:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    except BadRequest:  # already changed, or too old to edit: nothing to tidy
        pass


async def _choose_audience(update: Update, runtime: Runtime, draft: Draft, audience: str) -> None:
    """Audience chosen: now the staff member types the message."""
    query = update.callback_query
    assert query is not None
    now = runtime.clock()
    if audience in AFTER_CLOSE_ONLY and now < runtime.consultation.closes_at:
        await _answer(update, runtime.say("broadcast_after_close_only"), alert=True)
        return
    if not await drafts.advance(runtime.db, replace(draft, step="compose", audience=audience, updated_at=now),
                                "audience"):
        await _expired(update, runtime)
        return
    await _answer(update)
    text = runtime.say("broadcast_type_message", audience=label(runtime, audience))
    cancel = button(draft.staff_id, draft.token, CANCEL, runtime.say("button_broadcast_cancel"))
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup([[cancel]]))


@consumes
async def on_staff_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A staff member's message while composing becomes the broadcast; anyone else's goes to the tenant engine.

    Staff are recognised by id in a private chat (the filter); a forwarded text is fine as the message's content.
    """
    runtime, user, message = runtime_of(context), update.effective_user, update.message
    if user is None or message is None or message.text is None or not runtime.settings.is_staff(user.id):
        return False
    draft = await drafts.get(runtime.db, user.id)
    if draft is None or draft.step != "compose" or draft.audience is None:
        return False
    if _stale(runtime, draft):
        await drafts.discard(runtime.db, user.id, draft.token)
        return False
    if not await claim_update(runtime.db, update.update_id):  # a re-delivery: it must not become an answer either
        return True
    now = runtime.clock()
    preview = replace(draft, step="preview", text=message.text_html, updated_at=now)
    if not await drafts.advance(runtime.db, preview, "compose"):
        return False
    count = await broadcasts.audience_count(runtime.db, runtime.consultation.id, draft.audience)
    audience = label(runtime, draft.audience)
    if count == 0:
        await drafts.discard(runtime.db, user.id, draft.token)
        await context.bot.send_message(user.id, runtime.say("broadcast_nobody", audience=audience),
                                       parse_mode=ParseMode.HTML)
        return True
    question = runtime.say("broadcast_preview", audience=audience, count=count)
    if draft.audience in RESUME_AUDIENCES:
        question += "\n\n" + runtime.say("broadcast_with_resume", button=runtime.say("reminder_button"))
    await context.bot.send_message(user.id, message.text_html, parse_mode=ParseMode.HTML)  # exactly as sent
    buttons = [[button(user.id, draft.token, SEND, runtime.say("button_broadcast_send", count=count)),
                button(user.id, draft.token, CANCEL, runtime.say("button_broadcast_cancel"))]]
    await context.bot.send_message(user.id, question, parse_mode=ParseMode.HTML,
                                   reply_markup=InlineKeyboardMarkup(buttons))
    return True


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, runtime: Runtime, draft: Draft) -> None:
    """Write the job (draft gone, recipients listed, audited) in one go; this message becomes its progress."""
    query = update.callback_query
    assert query is not None and draft.audience is not None
    message_id = query.message.message_id if query.message is not None else None
    job = await broadcasts.create_staff_broadcast(
        runtime.db, runtime.consultation.id, draft.staff_id, draft.token,
        resume_button=draft.audience in RESUME_AUDIENCES, now=runtime.clock(), progress_message_id=message_id,
    )
    if job is None:
        await _expired(update, runtime)
        return
    await _answer(update)
    text = runtime.say("broadcast_progress", audience=label(runtime, job.audience), sent=0, total=job.total)
    await _replace_message(update, text)
    broadcaster_of(context.application).wake()


def add_staff_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """/broadcast, its buttons, and the message being composed, all ahead of the tenant handlers."""
    application.add_handler(CommandHandler("broadcast", on_broadcast), group=GROUP)
    application.add_handler(CallbackQueryHandler(on_broadcast_button, pattern=rf"^{PREFIX}:"), group=GROUP)
    text = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text, on_staff_text), group=GROUP)
