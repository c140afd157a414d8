"""Replies leave through one ordered queue per chat, after the step is committed.

The tenant's lock is released as soon as a step is stored, so a slow network never holds up the next step. Each
chat's queue is drained in order by one task, and what it sends is merged into as few messages as possible: one
step's replies (a thank-you, a topic's aim, the next question) arrive as one message, a round trip instead of three
on a poor signal. A reply to a tenant's own action goes at once. When a tenant sends many messages at once (the
next ones were already waiting while this one was handled) the replies are marked paced: they wait for the chat's
budget, and whatever piles up meanwhile is merged, so the tenant still reads everything, in order, without Telegram
seeing a flood. Network faults and 5xx answers are retried with back-off: an acknowledged answer is already stored,
so sending its reply again is always safe (at worst the tenant sees a reply twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import partial

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.delivery.sending import redraw, remove_buttons, send_replies
from bot.delivery.telegram_bot import TolerantBot
from conversations.replies import Reply

log = logging.getLogger(__name__)
RETRY_DELAYS = (0.5, 1, 2, 4, 8, 15, 30, 30, 30)  # about two minutes in all, then the reply is given up


@dataclass(frozen=True)
class Outgoing:
    """What one step (or command) has for a chat.

    `supersedes_buttons`: this moves the conversation on, so buttons of earlier replies not yet sent are dropped.
    `clear_message_id`: an old message whose buttons go (a stale press, an answered erase question).
    `paced`: part of a flood, so it waits for the chat's budget instead of going at once.
    `redraw_message_id`: the first reply replaces this message's text and buttons (a multi question's ticks) instead
    of arriving as a new message.
    """

    replies: tuple[Reply, ...]
    supersedes_buttons: bool = False
    clear_message_id: int | None = None
    user_id: int | None = None
    paced: bool = False
    redraw_message_id: int | None = None


@dataclass
class _Chat:
    queue: deque[Outgoing] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


def merge(items: list[Outgoing]) -> list[Reply]:
    """Replies as few messages as possible: texts joined in order, buttons only where still live."""
    merged: list[Reply] = []
    for item in items:
        if item.supersedes_buttons and merged and merged[-1].buttons:
            merged[-1] = Reply(merged[-1].text)  # superseded before it was ever sent
        for index, reply in enumerate(item.replies):
            last = merged[-1] if merged else None
            if last is not None and not last.buttons and len(last.text) + len(reply.text) + 2 <= 4096:
                if index == 0 and last.text.endswith(reply.text) and not reply.buttons:
                    continue  # "Thanks, I've added that." fifty times reads as once
                merged[-1] = Reply(f"{last.text}\n\n{reply.text}", reply.buttons)
            else:
                merged.append(reply)
    return merged


class Outbox:
    """One ordered queue and one sender task per chat."""

    def __init__(self, bot: TolerantBot, on_blocked: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.bot = bot
        self.on_blocked = on_blocked
        self.chats: dict[int, _Chat] = {}

    def put(self, chat_id: int, outgoing: Outgoing) -> None:
        """Queue replies for a chat; they are sent after everything queued before them."""
        chat = self.chats.setdefault(chat_id, _Chat())
        chat.queue.append(outgoing)
        if chat.task is None or chat.task.done():
            chat.task = asyncio.create_task(self._drain(chat_id, chat), name=f"outbox:{chat_id}")

    async def _drain(self, chat_id: int, chat: _Chat) -> None:
        """Send until the queue is empty, merging whatever piled up meanwhile."""
        try:
            while chat.queue:
                items = list(chat.queue)
                chat.queue.clear()
                await self._send(chat_id, items)
        finally:
            if not chat.queue and self.chats.get(chat_id) is chat:
                del self.chats[chat_id]

    async def _send(self, chat_id: int, items: list[Outgoing]) -> None:
        """Send in order: redraws of a pressed message where asked for (only the last redraw of a message counts),
        everything else merged between them; give up on a chat that blocked us, retry faults."""
        user_id = next((i.user_id for i in items if i.user_id is not None), None)
        pending: list[Outgoing] = []
        try:
            for index, item in enumerate(items):
                if item.redraw_message_id is None or not item.replies:
                    pending.append(item)
                    continue
                later = items[index + 1:]
                if any(i.redraw_message_id == item.redraw_message_id and i.replies for i in later):
                    continue  # redrawn again before it was ever shown
                await self._deliver(chat_id, pending)
                pending = []
                await self._retrying(partial(redraw, self.bot, chat_id, item.redraw_message_id, item.replies[0]))
                pending.append(replace(item, replies=item.replies[1:], redraw_message_id=None))
            await self._deliver(chat_id, pending)
        except Forbidden:
            log.info("a tenant has blocked the bot; their replies are dropped and they are marked unreachable")
            if self.on_blocked is not None and user_id is not None:
                await self.on_blocked(user_id)
        except BadRequest as error:
            log.error("Telegram refused a reply (not retried): %s", error)
        except NetworkError as error:
            log.error("a reply could not be delivered after retrying for two minutes: %s", error)

    async def _deliver(self, chat_id: int, items: list[Outgoing]) -> None:
        """Send the merged replies, removing any old buttons asked for alongside (they touch other messages)."""
        if not items:
            return
        replies = merge(items)
        paced = any(i.paced for i in items)
        clearing = asyncio.gather(*(self._retrying(partial(remove_buttons, self.bot, chat_id, i.clear_message_id))
                                    for i in items if i.clear_message_id is not None))
        try:
            for reply in replies:
                await self._retrying(partial(send_replies, self.bot, chat_id, [reply], paced))
        except BaseException:
            clearing.cancel()
            raise
        await clearing

    @staticmethod
    async def _retrying(call: Callable[[], Awaitable[None]]) -> None:
        """Run a send, retrying network faults and 5xx with back-off (a 429 is paced by the rate limiter)."""
        for delay in (*RETRY_DELAYS, None):
            try:
                await call()
                return
            except (BadRequest, Forbidden):
                raise
            except (NetworkError, RetryAfter) as error:
                if delay is None:
                    raise
                log.warning("sending failed (%s); retrying in %ss", type(error).__name__, delay)
                await asyncio.sleep(delay)

    async def close(self, timeout: float) -> None:
        """At shutdown: let queued replies go out for a bounded time, then stop."""
        tasks = [c.task for c in self.chats.values() if c.task is not None and not c.task.done()]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d chats still had replies queued at shutdown; their answers are stored", len(pending))
