"""Spacing of broadcast sends: under BROADCAST_RATE overall, one a second per chat, and a shared pause on a 429."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from telegram.error import RetryAfter

from storage import StorageUnavailableError

log = logging.getLogger(__name__)

# Telegram must never count more than BROADCAST_RATE sends in any one second, and it sees our sends a little later
# or earlier than we made them (a loaded machine delays some more than others). So sends are spaced evenly with a
# margin (the jitter), a late wake-up is made up by at most CATCH_UP, and no window of 1 s + half the jitter may
# hold more than the rate: making up never breaks the limit. The margin is 40 ms whatever the rate: 96% of it.
JITTER_SECONDS = 0.04
CATCH_UP_SECONDS = 0.02
# Several workers wake for their slots in processes of their own and reach Telegram by their own connections, so
# their sends drift further from the slots than one process's do: a wider margin (measured with two workers on a
# loaded 2-core machine: 40 ms let 21 through in one second, 100 ms let 22; 300 ms keeps to the rate with 0.25 s of
# drift). Broadcasts shared by several workers go at about 77% of BROADCAST_RATE.
SHARED_JITTER_SECONDS = 0.3
LATE_SECONDS = 0.02
PER_CHAT_SECONDS = 1.0
STOP_CHECK_SECONDS = 0.25
RESERVE_RETRY_SECONDS = 0.5


class SharedSlots(Protocol):
    """Send slots shared by every worker (storage/send_pace.py on PostgreSQL): the rate holds for all together."""

    async def reserve(self, interval: float, catch_up: float) -> float:
        """Take the next slot; seconds until it."""

    async def pause(self, seconds: float) -> None:
        """Nobody sends for this long."""


class Pacer:
    """Hands out send times one at a time: evenly spaced (a stall is made up only in part), per chat ≥ 1 s apart.
    With `shared` slots the even spacing is kept by the database for every worker together, not in memory."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, shared: SharedSlots | None = None
                 ) -> None:
        jitter = JITTER_SECONDS if shared is None else SHARED_JITTER_SECONDS
        self.interval = (1 + jitter) / rate  # 96% of the rate sustained (77% when shared by several workers)
        # The window is checked with half the margin: even spacing never reaches it, so it only cuts short a
        # catch-up burst (a window that always binds makes every burst come back one window later, for ever).
        self.window = 1 + jitter / 2
        self.recent: deque[float] = deque(maxlen=max(1, int(rate)))  # the last `rate` send times
        self.clock = clock
        self.sleep = sleep
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.last_by_chat: dict[int, float] = {}
        self.shared = shared
        self._pauses: set[asyncio.Task[None]] = set()

    def pause(self, seconds: float) -> None:
        """Telegram said 'retry after': nothing starts until then (in every worker, with shared slots)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        if self.shared is not None:
            task = asyncio.ensure_future(self.shared.pause(seconds))
            self._pauses.add(task)
            task.add_done_callback(self._pauses.discard)

    def _ready_at(self, chat_id: int) -> float:
        """The earliest moment this chat may get its next message."""
        last = self.last_by_chat.get(chat_id)
        chat_ready = last + PER_CHAT_SECONDS if last is not None else 0.0
        full = len(self.recent) == self.recent.maxlen
        window_ready = self.recent[0] + self.window if full else 0.0
        return max(self.next_slot, self.paused_until, chat_ready, window_ready)

    async def wait(self, chat_id: int, stop: asyncio.Event | None = None) -> bool:
        """Sleep until a send to this chat may start, then claim that slot; False if `stop` was set first."""
        if self.shared is not None:
            return await self._wait_shared(chat_id, stop)
        while True:
            now = self.clock()
            ready = self._ready_at(chat_id)
            if ready <= now:
                break
            if stop is not None and stop.is_set():
                return False
            await self.sleep(min(ready - now, STOP_CHECK_SECONDS))  # a long 429 pause must not delay a stop
        # Keep to the schedule after a late wake-up, but make up at most CATCH_UP_SECONDS of it: no bursts.
        self.next_slot = max(self.next_slot, now - CATCH_UP_SECONDS) + self.interval
        self.recent.append(now)
        self.last_by_chat[chat_id] = now
        if len(self.last_by_chat) > 4096:
            self.last_by_chat = {c: t for c, t in self.last_by_chat.items() if now - t < PER_CHAT_SECONDS}
        return True


    async def _wait_shared(self, chat_id: int, stop: asyncio.Event | None) -> bool:
        """The chat's own budget and this worker's pause here; the even spacing from the shared slots."""
        if not await self._until(lambda: max(self.paused_until, self._chat_ready(chat_id)), stop):
            return False
        while True:
            delay = await self._reserve(stop)
            if delay is None:
                return False
            due = self.clock() + delay
            if not await self._until(lambda due=due: due, stop):  # type: ignore[misc]
                return False  # the slot goes unused: the rate is a ceiling, not a promise
            now = self.clock()
            # Woken too late (a loaded machine): sending now would bunch up with the next worker's slot, so this
            # slot goes unused and another is taken. A send leaves within LATE_SECONDS of its slot or not at all.
            if now - due <= LATE_SECONDS:
                break
        self.recent.append(now)
        self.last_by_chat[chat_id] = now
        if len(self.last_by_chat) > 4096:
            self.last_by_chat = {c: t for c, t in self.last_by_chat.items() if now - t < PER_CHAT_SECONDS}
        return True

    async def _reserve(self, stop: asyncio.Event | None) -> float | None:
        """A shared slot; while the database cannot be reached, wait and ask again (never send unpaced)."""
        assert self.shared is not None
        while True:
            try:
                return await self.shared.reserve(self.interval, CATCH_UP_SECONDS)
            except StorageUnavailableError as error:
                log.warning("no bulk send slot: the database is unavailable (%s); asking again shortly", error)
            if stop is not None and stop.is_set():
                return None
            await self.sleep(RESERVE_RETRY_SECONDS)

    def _chat_ready(self, chat_id: int) -> float:
        last = self.last_by_chat.get(chat_id)
        return last + PER_CHAT_SECONDS if last is not None else 0.0

    async def _until(self, ready: Callable[[], float], stop: asyncio.Event | None) -> bool:
        """Sleep until ready() has passed; False if `stop` was set first."""
        while (left := ready() - self.clock()) > 0:
            if stop is not None and stop.is_set():
                return False
            await self.sleep(min(left, STOP_CHECK_SECONDS))
        return True


def retry_seconds(error: RetryAfter) -> float:
    """Seconds Telegram asked us to wait, whether PTB gives an int or a timedelta (PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
