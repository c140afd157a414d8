"""Turns the engine's replies into Telegram messages: one sendMessage each, split only past Telegram's limit.

Old buttons are left where they are. Removing them cost a second call to the chat for every step, and Telegram's
per-chat limit then held the next question back by a second; worse, the tenant saw a moment with no buttons at all.
A press on an old message is answered kindly instead (the engine calls it stale), and only that message loses its
buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from conversations.replies import Reply
from conversations.screens.markup import split_message

if TYPE_CHECKING:
    from bot.delivery.telegram_bot import TolerantBot

log = logging.getLogger(__name__)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's rows of buttons as an inline keyboard (callback data is the button's stable id)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.id) for b in row] for row in reply.buttons]
    )


async def remove_buttons(bot: TolerantBot, chat_id: int, message_id: int) -> None:
    """Remove the buttons from one old message (a stale press, an answered erase question)."""
    try:
        await bot.remove_buttons(chat_id, message_id)
    except BadRequest as error:  # already gone or unchanged: the chat is tidy either way
        log.debug("could not remove old buttons: %s", error)


async def redraw(bot: TolerantBot, chat_id: int, message_id: int, reply: Reply) -> None:
    """Replace a message's text and buttons (a multi question's ticks): one call, and the chat stays short.

    An unchanged message (two taps that cancel out) is fine as it is; one Telegram will not edit any more (too
    old, or deleted by the tenant) is sent afresh instead, so the tenant still sees where they are.
    """
    try:
        await bot.edit_html(chat_id, message_id, reply.text, keyboard(reply))
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return
        log.info("could not redraw a message (%s); sending it afresh", error)
        await send_replies(bot, chat_id, [reply])


async def send_replies(bot: TolerantBot, chat_id: int, replies: Sequence[Reply], paced: bool = False) -> None:
    """Send each reply in order, split under Telegram's limit; errors propagate to the caller.

    `paced` messages wait for the chat's budget (a flood's merged replies); the rest go at once.
    """
    for reply in replies:
        pieces = split_message(reply.text)
        for index, piece in enumerate(pieces):
            markup = keyboard(reply) if index == len(pieces) - 1 else None
            await bot.send_html(chat_id, piece, markup, paced=paced)
