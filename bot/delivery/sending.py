"""Turns the engine's replies into Telegram messages, and keeps the chat tidy by removing old buttons."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from conversations.markup import split_message
from conversations.replies import Reply

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


class KeyboardTracker:
    """Remembers each chat's newest message with buttons, so answered questions lose theirs."""

    def __init__(self) -> None:
        self._latest: dict[int, int] = {}

    def take_latest(self, chat_id: int) -> int | None:
        """The chat's newest message with buttons, forgotten: its buttons are about to be removed."""
        return self._latest.pop(chat_id, None)

    async def clear(self, bot: TolerantBot, chat_id: int, message_id: int) -> None:
        """Remove the buttons from a message."""
        if self._latest.get(chat_id) == message_id:
            del self._latest[chat_id]
        try:
            await bot.remove_buttons(chat_id, message_id)
        except BadRequest as error:  # already gone or unchanged: the chat is tidy either way
            log.debug("could not remove old buttons: %s", error)

    def remember(self, chat_id: int, message_id: int) -> None:
        """This message now carries the chat's live buttons."""
        self._latest[chat_id] = message_id


async def send_replies(bot: TolerantBot, chat_id: int, replies: Sequence[Reply], tracker: KeyboardTracker) -> None:
    """Send each reply in order, split under Telegram's limit; errors propagate to the caller."""
    for reply in replies:
        pieces = split_message(reply.text)
        for index, piece in enumerate(pieces):
            markup = keyboard(reply) if index == len(pieces) - 1 else None
            message_id = await bot.send_html(chat_id, piece, markup)
            if markup is not None:
                tracker.remember(chat_id, message_id)

