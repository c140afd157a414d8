"""Who may do what: staff and admins by numeric Telegram id, in their own private chat; refusals are audited."""

from __future__ import annotations

import logging
from enum import StrEnum

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.runtime import runtime_of

log = logging.getLogger(__name__)


class Role(StrEnum):
    """What a command needs."""

    STAFF = "staff"
    ADMIN = "admin"


def refusal_reason(update: Update, allowed_ids: frozenset[int] | set[int]) -> str:
    """Why this update may not use a staff or admin action, or '' when it may."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None:
        return "no user"
    if chat.type != "private":
        return f"{chat.type} chat"
    if message is not None and message.forward_origin is not None and update.callback_query is None:
        return "forwarded message"
    if user.id not in allowed_ids:
        return "not on the list"
    return ""


async def authorised(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role, action: str) -> bool:
    """True if the sender may do this; otherwise audit the attempt, say no kindly, and return False."""
    runtime = runtime_of(context)
    settings = runtime.settings
    allowed = settings.admin_ids if role is Role.ADMIN else settings.staff_ids | settings.admin_ids
    reason = refusal_reason(update, allowed)
    if not reason:
        return True
    user = update.effective_user
    await runtime.db.audit(user.id if user else None, action, f"needs {role.value}: {reason}", outcome="refused")
    log.warning("refused %s (%s): %s", action, role.value, reason)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(runtime.say("not_allowed"))
        except BadRequest as error:  # a press too old to answer: the refusal is audited all the same
            log.info("could not answer a refused button press: %s", error)
    elif update.effective_chat is not None and update.effective_chat.type == "private":
        await context.bot.send_message(update.effective_chat.id, runtime.say("not_allowed"))
    return False
