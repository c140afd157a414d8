"""Thin handlers: each turns one kind of tenant update into an engine event or a data request."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.delivery.outbox import Outgoing
from bot.runtime import Runtime, runtime_of
from bot.tenant.stepper import tenant_step
from conversations.events import Event, Help, Press, Privacy, Review, Start, Text
from conversations.replies import Button, Reply
from conversations.screens.review import my_data
from storage.updates import claim_update

log = logging.getLogger(__name__)
ERASE_YES = "erase:yes"
ERASE_NO = "erase:no"


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def once(handler: Handler) -> Handler:
    """For handlers that change no conversation: a re-delivered update is ignored, not answered twice."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await claim_update(runtime_of(context).db, update.update_id):
            await handler(update, context)
        else:
            log.info("update %s was already handled; ignoring the re-delivery", update.update_id)

    return wrapper


async def _step(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
    """Shared path for every event the engine handles."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    await tenant_step(runtime_of(context), update.update_id, user.id, chat.id, event)


async def _say(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, paced: bool = False) -> None:
    """A one-line message in the bot's own wording."""
    chat = update.effective_chat
    assert chat is not None
    runtime = runtime_of(context)
    runtime.send(chat.id, Outgoing((Reply(runtime.say(key)),), paced=paced))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, with the deep-link payload (e.g. t.me/bot?start=poster) when there is one."""
    await _step(update, context, Start(context.args[0] if context.args else None))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, Help())


async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, Review())


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, Privacy())


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await _step(update, context, Text(update.message.text))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every press is answered once; a press on an old message changes nothing and loses its buttons."""
    query = update.callback_query
    assert query is not None
    runtime = runtime_of(context)
    data = query.data or ""
    chat_id = query.message.chat.id if query.message else query.from_user.id
    pressed = query.message.message_id if query.message is not None else None
    if data in (ERASE_YES, ERASE_NO):
        if await claim_update(runtime.db, update.update_id):
            await answer_press(query)
            await _erase_answer(runtime, query.from_user.id, chat_id, data == ERASE_YES, pressed)
        return
    result = await tenant_step(runtime, update.update_id, query.from_user.id, chat_id, Press(data), pressed)
    if result is None:
        return  # a re-delivered press: it was answered the first time
    await answer_press(query, runtime.say("button_stale") if result.stale_press else None)
    if result.stale_press and pressed is not None:
        runtime.send(chat_id, Outgoing((), clear_message_id=pressed))


async def answer_press(query: CallbackQuery, note: str | None = None) -> None:
    """Stop the button's spinner; a press too old to answer (the bot was down) is not an error."""
    try:
        await query.answer(note)
    except BadRequest as error:
        log.info("could not answer a button press: %s", error)


@once
async def on_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete asks first: erasure cannot be undone."""
    runtime, chat = runtime_of(context), update.effective_chat
    assert chat is not None
    reply = Reply(runtime.say("delete_confirm"), ((Button(ERASE_YES, runtime.say("button_delete_yes")),
                                                   Button(ERASE_NO, runtime.say("button_delete_no"))),))
    runtime.send(chat.id, Outgoing((reply,), supersedes_buttons=True))


async def _erase_answer(runtime: Runtime, user_id: int, chat_id: int, erase: bool, pressed: int | None) -> None:
    """Erase for real (answers, transcript, state) or keep everything, and say which.

    The question's buttons go either way, so a later tap on "Yes, delete" cannot erase by mistake.
    """
    runtime.send(chat_id, Outgoing((), clear_message_id=pressed))
    if not erase:
        runtime.send(chat_id, Outgoing((Reply(runtime.say("delete_cancelled")),)))
        return
    erased = await runtime.db.erase_respondent(user_id, actor_id=None)
    log.info("tenant erasure: %s", "done" if erased else "nothing held")
    runtime.send(chat_id, Outgoing((Reply(runtime.say("deleted" if erased else "nothing_to_delete")),)))


@once
async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: a copy of everything we hold for this tenant."""
    runtime, user, chat = runtime_of(context), update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    respondent = await runtime.db.respondent(user.id)
    loaded = await runtime.db.load_state(user.id, runtime.consultation.id)
    if respondent is None:
        await _say(update, context, "mydata_empty")
        return
    replies = my_data(runtime.consultation, loaded.state, respondent.reference, not respondent.reminders_opted_out)
    runtime.send(chat.id, Outgoing(replies))


@once
async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop: no more reminders."""
    user = update.effective_user
    assert user is not None
    await runtime_of(context).db.set_reminders(user.id, opted_out=True)
    await _say(update, context, "reminders_off")


@once
async def on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders: reminders back on."""
    user = update.effective_user
    assert user is not None
    await runtime_of(context).db.set_reminders(user.id, opted_out=False)
    await _say(update, context, "reminders_on")


@once
async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, locations, contacts, files: say kindly what works instead."""
    await _say(update, context, "unsupported_message")


@once
async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edits are not picked up; say how to change an answer instead."""
    await _say(update, context, "edited_message")


@once
async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _say(update, context, "unknown_command")


@once
async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The consultation is private: in a group, say so and take nothing (paced: a busy group is not one person)."""
    await _say(update, context, "private_only", paced=True)


async def on_channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Channel posts and edits in groups: nobody to answer, so a logged, silent drop."""
    log.info("ignored update %s: not from a private chat", update.update_id)


async def on_anything_else(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Updates no handler wants (polls, reactions, inline queries, unreadable ones): a logged, silent drop."""
    kinds = [k for k, v in (update.to_dict() if isinstance(update, Update) else {}).items() if k != "update_id" and v]
    log.info("ignored update %s: nothing to do with %s", getattr(update, "update_id", "?"), kinds or "an empty update")


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram tells us when a tenant blocks or unblocks the bot; reminders follow that."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    blocked = change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    await runtime_of(context).db.mark_blocked(change.from_user.id, blocked)
    log.info("update %s: a tenant %s the bot", update.update_id, "blocked" if blocked else "unblocked")
